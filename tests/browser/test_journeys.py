"""The core journeys as a user performs them in the browser."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from dsr.core import dates, nhs_number
from dsr.core.access import Role
from dsr.people.models import Person
from tests import factories
from tests.browser.conftest import axe_check, sign_in

pytestmark = pytest.mark.browser


def fill_date(page: Page, field: str, day: date) -> None:
    page.fill(f"#id_{field}-day", str(day.day))
    page.fill(f"#id_{field}-month", str(day.month))
    page.fill(f"#id_{field}-year", str(day.year))


def choose(page: Page, question: str, answer: str | re.Pattern[str]) -> None:
    """Tick the answer to a radio question, found by its legend and label."""
    page.get_by_role("group", name=question, exact=True).get_by_label(answer).check()


def search(page: Page, text: str) -> None:
    page.fill("#id_q", text)
    page.get_by_role("button", name="Search", exact=True).click()


def register_row(page: Page, name: str):
    return page.locator("#register-table tbody tr").filter(has=page.get_by_role("link", name=name))


def test_a_coordinator_adds_a_person_and_finds_them_by_nhs_number_and_date_of_birth(
    page, live_server, cast, register, url
):
    # Given a signed-in coordinator on the register
    sign_in(page, live_server, cast[Role.COORDINATOR])
    number = factories.next_nhs_number()
    born = dates.add_years(dates.today(), -9) - timedelta(days=40)

    # When they choose "Add a person" and fill in the whole form
    page.get_by_role("main").get_by_role("link", name="Add a person").click()
    expect(page.locator("h1")).to_have_text("Add a person to the register")
    page.fill("#id_given_name", "Dylan")
    page.fill("#id_family_name", "Drake")
    page.fill("#id_preferred_name", "Dil")
    fill_date(page, "date_of_birth", born)
    page.fill("#id_nhs_number", f"{number[:3]} {number[3:6]} {number[6:]}")
    page.select_option("#id_ethnicity", label="White – British")
    page.fill("#id_address", "1 Test Street\nTesttown")
    page.fill("#id_postcode", "ls1 4ap")
    page.fill("#id_local_authority", "Testshire")
    page.fill("#id_gp_practice", "Test Surgery")
    choose(page, "Accommodation", "Foster care")
    choose(page, "Learning disability", "Suspected")
    choose(page, "Autism", "Awaiting assessment")
    page.fill("#id_diagnosis_notes", "Assessment booked")
    page.fill("#id_education_setting", "Test Academy")
    page.select_option("#id_education_attendance", label="Part-time or reduced timetable")
    choose(page, "EHC plan", "In assessment")
    choose(page, "Looked-after child", "Yes")
    choose(page, "Child protection plan", "No")
    choose(page, "Child in need", "Yes")
    page.fill("#id_communication_needs", "Uses Makaton")
    page.fill("#id_key_safety_information", "Runs towards roads when distressed")
    choose(page, "Risk rating", re.compile(r"Amber:"))
    page.fill("#id_rationale", "Placement wobbling; school reducing hours")
    page.get_by_role("button", name="Add to the register").click()

    # Then they see the new record with what they entered
    expect(page.locator(".dsr-message")).to_contain_text(
        "Dylan Drake has been added to the register"
    )
    expect(page.locator("h1")).to_contain_text("Dylan Drake")
    main = page.get_by_role("main")
    expect(main).to_contain_text(nhs_number.display(number))
    expect(main).to_contain_text("Foster care")
    expect(main).to_contain_text("LS1 4AP")
    expect(main).to_contain_text("Runs towards roads when distressed")
    person = Person.objects.get(nhs_number=number)
    assert person.looked_after and person.child_in_need and not person.child_protection_plan
    assert (person.current_rating, person.ehc_plan) == ("A", "in_assessment")

    # And on the register
    page.get_by_role("link", name="Back to the register").click()
    expect(register_row(page, "DRAKE, Dylan")).to_have_count(1)

    # When they search by the NHS number typed with dashes
    search(page, f"{number[:3]}-{number[3:6]}-{number[6:]}")
    # Then only that person is found
    expect(page.locator("#result-count")).to_contain_text("1 person")
    expect(register_row(page, "DRAKE, Dylan")).to_have_count(1)

    # When they search by the date of birth as dd/mm/yyyy
    search(page, born.strftime("%d/%m/%Y"))
    # Then only that person is found
    expect(page.locator("#result-count")).to_contain_text("1 person")
    expect(register_row(page, "DRAKE, Dylan")).to_have_count(1)


def test_a_coordinator_closes_a_record_and_finds_it_among_closed_records(
    page, live_server, cast, register, url
):
    # Given a coordinator on Ben's record
    sign_in(page, live_server, cast[Role.COORDINATOR])
    page.get_by_role("link", name="BROOK, Ben").click()

    # When they close it with a reason and today's date
    page.get_by_role("link", name="Close record").click()
    choose(page, "Why is this person leaving the register?", "Moved out of area (transfer)")
    fill_date(page, "closed_on", dates.today())
    page.fill("#id_closure_note", "Moved to Testshire")
    page.get_by_role("button", name="Close record").click()

    # Then the record says it is closed, and why
    expect(page.locator(".dsr-message")).to_contain_text("Ben Brook's record has been closed")
    expect(page.get_by_role("main")).to_contain_text("Moved out of area (transfer)")
    expect(page.get_by_role("link", name="Edit details")).to_have_count(0)

    # And it has left the open register
    page.get_by_role("link", name="Back to the register").click()
    expect(register_row(page, "BROOK, Ben")).to_have_count(0)

    # When they show closed records
    page.select_option("#id_status", label="Closed")
    page.get_by_role("button", name="Search", exact=True).click()

    # Then Ben is there, marked Closed
    row = register_row(page, "BROOK, Ben")
    expect(row).to_have_count(1)
    expect(row.locator(".nhsuk-tag").last).to_have_text("Closed")


def test_a_coordinator_sees_their_own_views_in_who_has_accessed_the_record(
    page, live_server, cast, register
):
    # Given a coordinator who has opened Alice's record
    sign_in(page, live_server, cast[Role.COORDINATOR])
    page.get_by_role("link", name="ASHBY, Alice").click()
    expect(page.locator("h1")).to_contain_text("Alice Ashby")

    # When they choose "Who has accessed this record"
    page.get_by_role("link", name="Who has accessed this record").click()

    # Then their own view is listed, with their name
    expect(page.locator("h1")).to_contain_text("Who has accessed this record")
    views = page.locator("table tbody tr").filter(has_text="Viewed").filter(has_text="Coordinator")
    expect(views.first).to_be_visible()
    assert views.count() >= 1
    expect(page.locator("table tbody")).to_contain_text("coordinator@a.example")


def test_a_partner_sees_only_the_people_in_their_care_network_and_updates_their_own_actions(
    page, live_server, cast, register, problems, in_place
):
    # Given a partner in Alice's care network, in a place with others on the register
    # When they sign in
    sign_in(page, live_server, cast[Role.PARTNER])

    # Then the register shows Alice alone
    expect(page).to_have_url(re.compile("/people/$"))
    expect(page.locator("#result-count")).to_contain_text("1 person")
    expect(page.locator("#register-table")).to_contain_text("ASHBY, Alice")

    # And on her record they can open only the action they own, and record progress on it
    page.get_by_role("link", name="ASHBY, Alice").click()
    expect(page.get_by_role("link", name="Arrange a keywork visit")).to_have_count(0)
    page.get_by_role("link", name="Share the CAMHS plan").click()
    page.get_by_label("Done").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".dsr-message")).to_contain_text("Action updated")
    axe_check(page)

    # And someone outside their network is not found
    problems.expect(r"status of 404")
    response = page.goto(in_place(f"/people/{register.ben.pk}/"))
    assert response is not None and response.status == 404


def test_a_user_of_another_place_gets_not_found_for_a_person_in_this_place(
    page, live_server, cast, register, problems, url, in_place
):
    # Given the coordinator of place B, signed in
    sign_in(page, live_server, cast["outsider"])
    problems.expect(r"status of 404")

    # When they open the address of a person in place A
    response = page.goto(in_place(f"/people/{register.alice.pk}/"))

    # Then they see "Page not found", and nothing of Alice
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    expect(page.locator("body")).not_to_contain_text("Ashby")
