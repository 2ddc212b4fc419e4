"""Hospital stays and C(E)TRs in the browser: every new page, and each form's error state,
checked by axe-core against WCAG 2.2 A and AA; the core journeys; without JavaScript; on a
phone-width screen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from dsr.core import dates
from dsr.core.access import Role
from dsr.hospital import services as hospital
from dsr.reviews import services as reviews
from dsr.risk import services as risk
from tests import factories
from tests.browser.conftest import (
    assert_error_summary_links_land,
    axe_check,
    sign_in,
    watch,
)
from tests.browser.test_journeys import choose, fill_date
from tests.browser.test_small_screens_and_tabs import PHONE, assert_fits
from tests.factories import SYSTEM
from tests.hospital.factories import admit, arrange, discharge, hold, request_cetr

pytestmark = pytest.mark.browser


@dataclass
class Wards:
    ines: object  # in hospital 20 days: a visit, a post-admission C(E)TR booked, a LAEP held
    stay: object
    dan: object  # discharged 3 days ago: Red until a coordinator records why not
    dans_stay: object
    rory: object  # Red: a community C(E)TR requested
    requested: object
    hal: object  # a C(E)TR held, report due, a recommendation overdue
    held: object
    issued: object  # a report issued
    cancelled: object
    tess: object  # turns 18 in two months
    greg: object  # Red, then Green: the Red rating's prompts no longer apply


@pytest.fixture
def wards(place_a, cast) -> Wards:
    today = dates.today()
    ago = lambda days: today - timedelta(days=days)  # noqa: E731
    born = factories.born_years_ago

    ines = factories.make_person(
        place_a, given_name="Ines", family_name="Irving", date_of_birth=born(15)
    )
    stay = admit(ines, admitted_on=ago(20), out_of_area=True, distance_miles=90)
    hospital.record_visit(
        admission=stay,
        visited_on=ago(5),
        visited_by="Cass Commissioner",
        findings="Settled on the ward",
        by=SYSTEM,
    )
    arrange(request_cetr(ines, kind="post_admission", on=ago(19)), on=today + timedelta(days=3))
    hold(arrange(request_cetr(ines, kind="laep", on=ago(18)), on=ago(18), consent=""))

    dan = factories.make_person(
        place_a, given_name="Dan", family_name="Dale", date_of_birth=born(16)
    )
    dans_stay = discharge(admit(dan, admitted_on=ago(40)), on=ago(3))

    rory = factories.make_person(
        place_a, rating="R", given_name="Rory", family_name="Reid", date_of_birth=born(13)
    )
    requested = request_cetr(rory)

    hal = factories.make_person(
        place_a, rating="R", given_name="Hal", family_name="Hart", date_of_birth=born(20)
    )
    held = hold(
        arrange(
            request_cetr(hal, on=ago(14)), on=ago(10), consent="best_interests", consent_on=ago(12)
        )
    )
    reviews.add_recommendation(
        cetr=held,
        description="Refer to the intensive support team",
        due_on=ago(2),
        owner_user=cast[Role.KEYWORKER],
        by=SYSTEM,
    )
    issued = hold(
        arrange(
            request_cetr(
                factories.make_person(place_a, given_name="Ivy", family_name="Ince"), on=ago(30)
            ),
            on=ago(25),
            consent_on=ago(29),
        )
    )
    issued = reviews.issue_report(
        cetr=issued, issued_on=ago(20), expected_version=issued.version, by=SYSTEM
    )
    cancelled = request_cetr(
        factories.make_person(place_a, given_name="Cal", family_name="Cole"), kind="laep"
    )
    cancelled = reviews.cancel_cetr(
        cetr=cancelled, reason="Crisis passed", expected_version=1, by=SYSTEM
    )

    tess = factories.make_person(
        place_a,
        given_name="Tess",
        family_name="Tate",
        date_of_birth=dates.add_years(today, -18) + timedelta(days=60),
    )
    greg = factories.make_person(place_a, rating="R", given_name="Greg", family_name="Gale")
    risk.rate(person=greg, rating="G", rationale="Settled", by=SYSTEM)
    return Wards(
        ines, stay, dan, dans_stay, rory, requested, hal, held, issued, cancelled, tess, greg
    )


def open_and_check(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    expect(page.locator("h1")).to_be_visible()
    axe_check(page)


def test_every_hospital_and_cetr_page_has_no_violations(page, live_server, cast, wards, in_place):
    # Given a signed-in coordinator
    sign_in(page, live_server, cast[Role.COORDINATOR])
    w = wards
    stay, dans = w.stay.pk, w.dans_stay.pk
    paths = [
        "/inpatients/",
        "/cetrs/",
        "/my-work/",
        "/people/",
        f"/people/{w.ines.pk}/",
        f"/people/{w.dan.pk}/",
        f"/people/{w.hal.pk}/",
        f"/people/{w.tess.pk}/",
        f"/people/{w.greg.pk}/",
        f"/people/{w.rory.pk}/admissions/new/",
        f"/admissions/{stay}/edit/",
        f"/admissions/{stay}/discharge/",
        f"/admissions/{stay}/visits/new/",
        f"/admissions/{dans}/after-discharge/",
        f"/people/{w.rory.pk}/cetrs/new/",
        f"/cetrs/{w.requested.pk}/",
        f"/cetrs/{w.requested.pk}/details/",
        f"/cetrs/{w.requested.pk}/held/",
        f"/cetrs/{w.requested.pk}/cancel/",
        f"/cetrs/{w.held.pk}/",
        f"/cetrs/{w.held.pk}/report/",
        f"/cetrs/{w.held.pk}/recommendations/new/",
        f"/cetrs/{w.issued.pk}/",
        f"/cetrs/{w.cancelled.pk}/",
        f"/people/{w.greg.pk}/prompts/",
        f"/people/{w.tess.pk}/transition/",
    ]
    # When they open each page, then axe finds nothing
    for path in paths:
        open_and_check(page, in_place(path))


def test_a_viewer_finds_the_inpatients_and_the_schedule_in_the_navigation(
    page, live_server, cast, wards, in_place
):
    # Given a commissioner (viewer)
    sign_in(page, live_server, cast[Role.VIEWER])
    # When they follow "Inpatients"
    page.get_by_role("navigation").get_by_role("link", name="Inpatients").click()
    # Then everyone in hospital is there, with their stay and what is due
    expect(page.locator("h1")).to_contain_text("Inpatients")
    row = page.locator("#inpatients tbody tr").filter(has_text="Ines")
    expect(row).to_contain_text("20 days in hospital")
    expect(row).to_contain_text("Out of area")
    axe_check(page)
    # And the C(E)TR schedule
    page.get_by_role("navigation").get_by_role("link", name="C(E)TRs").click()
    expect(page.locator("#schedule-community")).to_contain_text("Rory Reid")
    expect(page.locator("#schedule-reports")).to_contain_text("Hal Hart")
    axe_check(page)


def check_error_page(page: Page, *messages: str) -> None:
    found = assert_error_summary_links_land(page)
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    for message in messages:
        assert any(message in text for text in found), (message, found)
    axe_check(page)


def test_each_new_form_sent_empty_summarises_its_errors_accessibly(
    page, live_server, cast, wards, in_place
):
    # Given a coordinator
    sign_in(page, live_server, cast[Role.COORDINATOR])
    w = wards
    forms = {
        f"/people/{w.rory.pk}/admissions/new/": "Enter the hospital",
        f"/admissions/{w.stay.pk}/edit/": "Enter the hospital",
        f"/admissions/{w.stay.pk}/discharge/": "Enter the date discharged",
        f"/admissions/{w.stay.pk}/visits/new/": "Enter the findings",
        f"/admissions/{w.dans_stay.pk}/after-discharge/": "Enter why they need not stay Red",
        f"/people/{w.rory.pk}/cetrs/new/": "Select what kind of review",
        f"/cetrs/{w.requested.pk}/held/": "Enter the outcome",
        f"/cetrs/{w.held.pk}/report/": "Enter the date the report was issued",
        f"/cetrs/{w.requested.pk}/cancel/": "Enter why it was cancelled",
        f"/cetrs/{w.held.pk}/recommendations/new/": "Enter the recommendation",
        f"/people/{w.greg.pk}/prompts/": "Enter why the prompt no longer applies",
    }
    for path, message in forms.items():
        page.goto(in_place(path))
        form = page.locator("main form[method=post]").first
        # When the form is sent with every text box emptied
        for box in form.locator("input[type=text], textarea").all():
            box.fill("")
        form.locator("button[type=submit]").last.click()
        # Then its errors are summarised, linked to their fields, and accessible
        check_error_page(page, message)
    # And consent with no one named: linked to the field that needs it
    page.goto(in_place(f"/cetrs/{w.requested.pk}/details/"))
    choose(page, "Consent for this review", "The young person consented")
    page.get_by_role("button", name="Save").click()
    check_error_page(page, "Enter who consented, or who made the decision")


def test_a_coordinator_records_an_admission_and_a_discharge(
    page, live_server, cast, wards, in_place
):
    # Given a coordinator on Rory's record (rated Red)
    sign_in(page, live_server, cast[Role.COORDINATOR])
    page.goto(in_place(f"/people/{wards.rory.pk}/"))
    # When they record his admission
    page.get_by_role("link", name="Record an admission to hospital").click()
    page.fill("#id_hospital", "Moorside Hospital")
    page.fill("#id_provider", "Moorside Healthcare Ltd")
    choose(page, "NHS or independent provider", "Independent sector")
    choose(page, "Ward type", "Psychiatric intensive care unit")
    page.select_option("#id_legal_status", label="Mental Health Act section 2")
    fill_date(page, "admitted_on", dates.today())
    choose(page, "Out of area", "Yes")
    choose(page, "On the register before admission", "Yes")
    page.get_by_role("button", name="Record admission").click()
    # Then he is rated Blue, and his post-admission C(E)TR falls due in 14 days
    expect(page.locator(".dsr-message")).to_contain_text("the rating is now Blue")
    expect(page.locator("#current-rating")).to_contain_text("Blue")
    due = dates.today() + timedelta(days=14)
    expect(page.locator("#next-cetr")).to_contain_text(f"{due:%-d %B %Y}")
    # And the community C(E)TR he no longer needs is offered for closing, not closed
    expect(page.locator("#stale-prompts")).to_contain_text("Hold a community C(E)TR")
    # When they record his discharge home
    page.get_by_role("link", name="Record the discharge").click()
    choose(page, "Discharged to", "Family home")
    page.get_by_role("button", name="Record discharge").click()
    # Then he is rated Red, until the setting's days have passed
    expect(page.locator("#current-rating")).to_contain_text("Red")
    until = dates.today() + timedelta(days=14)
    expect(page.locator("#after-discharge")).to_contain_text(f"rated Red until {until:%-d %B %Y}")
    axe_check(page)


def test_without_javascript_a_stale_prompt_closes_with_one_click(
    new_context, problems, live_server, cast, wards, in_place
):
    # Given a browser with JavaScript switched off, on Greg's record (Red, now Green)
    page = watch(new_context(java_script_enabled=False), problems).new_page()
    sign_in(page, live_server, cast[Role.COORDINATOR])
    page.goto(in_place(f"/people/{wards.greg.pk}/"))
    prompts = page.locator("#stale-prompts")
    expect(prompts).to_contain_text("Hold a community C(E)TR")
    # When they close it with the reason offered
    prompts.get_by_role("button", name=re.compile("Close Hold a community C")).click()
    # Then it is closed, with the reason
    expect(page.locator(".dsr-message")).to_contain_text("Closed: Hold a community C(E)TR")
    expect(page.locator("#stale-prompts")).not_to_contain_text("Hold a community C(E)TR")


def test_the_new_pages_fit_a_375_pixel_screen(
    new_context, problems, live_server, cast, wards, in_place
):
    # Given a phone-width screen
    page = watch(new_context(viewport=PHONE), problems).new_page()
    sign_in(page, live_server, cast[Role.COORDINATOR])
    # When the coordinator opens the overview, the schedule and an inpatient's record
    for path in (
        "/inpatients/",
        "/cetrs/",
        f"/people/{wards.ines.pk}/",
        f"/cetrs/{wards.held.pk}/",
    ):
        page.goto(in_place(path))
        # Then each fits the screen
        assert_fits(page)
