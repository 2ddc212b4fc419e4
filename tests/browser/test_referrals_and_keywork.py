"""Step 6's pages in a real browser: each has no axe violations, its forms' errors are
summarised accessibly, and the public referral form works without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from dsr.consent import services as consent
from dsr.core import dates
from dsr.core.access import Role
from dsr.keywork import services as keywork
from dsr.people import services as people
from dsr.referrals.models import Referral
from tests import factories
from tests.browser.conftest import axe_check, sign_in, watch
from tests.browser.test_accessibility import check_error_page, open_and_check
from tests.factories import SYSTEM

pytestmark = pytest.mark.browser


@pytest.fixture
def step6(register, cast, place_a, place_b):
    """Alice (from `register`) with family, a professional, consent, a circumstance, the
    keyworker and a contact; a referral waiting, one that matches Alice; a withdrawn Ben."""
    alice = register.alice
    people.add_network_member(
        person=alice,
        kind="family",
        name="Sam Ashby",
        relationship="parent",
        parental_responsibility=True,
        phone="07700 900 123",
        started_on=dates.today(),
        by=SYSTEM,
    )
    senco = people.add_network_member(
        person=alice, name="Ola SENCO", job_title="SENCO", started_on=dates.today(), by=SYSTEM
    )
    consent.record_consent(
        person=alice,
        given_by="parental",
        basis="parental",
        consenter="Sam Ashby",
        given_on=dates.today(),
        evidence="signed_form",
        by=SYSTEM,
    )
    people.record_circumstance(
        person=alice, area="education", standing="some", note="Reduced timetable", by=SYSTEM
    )
    from dsr.risk import services as risk

    risk.rate(person=alice, rating="A", rationale="Escalating", by=SYSTEM)
    allocation = keywork.allocate_keyworker(person=alice, keyworker=cast[Role.KEYWORKER], by=SYSTEM)
    keywork.log_contact(
        person=alice,
        contacted_on=dates.today(),
        kind="visit",
        with_whom="Mum",
        summary="Weekly visit",
        by=SYSTEM,
    )
    waiting = factories.make_referral(place_a, given_name="Rowan", family_name="Waiting")
    matching = factories.make_referral(
        place_a,
        given_name="Alice",
        family_name="Ashby",
        date_of_birth=alice.date_of_birth,
        nhs_number=alice.nhs_number,
    )
    consent.withdraw_consent(
        person=register.ben, withdrawn_on=dates.today(), withdrawn_by="Mum", by=SYSTEM
    )
    return {
        "alice": alice,
        "senco": senco,
        "allocation": allocation,
        "waiting": waiting,
        "matching": matching,
    }


def test_every_step_6_page_has_no_violations(page: Page, live_server, cast, step6, in_place):
    # Given a coordinator
    sign_in(page, live_server, cast[Role.COORDINATOR])
    alice, waiting = step6["alice"], step6["waiting"]
    # When they open each page, then axe finds nothing
    for path in [
        "/referrals/",
        "/referrals/?status=all",
        "/referrals/new/",
        f"/referrals/{waiting.pk}/",
        f"/referrals/{waiting.pk}/first-contact/",
        f"/referrals/{waiting.pk}/more-information/",
        f"/referrals/{waiting.pk}/decline/",
        f"/referrals/{waiting.pk}/accept/",
        f"/referrals/{step6['matching'].pk}/accept/",
        "/caseloads/",
        f"/caseloads/{cast[Role.KEYWORKER].pk}/",
        f"/people/{alice.pk}/",
        f"/people/{alice.pk}/consent/",
        f"/people/{alice.pk}/consent/new/",
        f"/people/{alice.pk}/consent/withdraw/",
        f"/people/{alice.pk}/network/",
        f"/people/{alice.pk}/network/new-professional/",
        f"/people/{alice.pk}/network/new-family/",
        f"/people/network/{step6['senco'].pk}/edit/",
        f"/people/network/{step6['senco'].pk}/end/",
        f"/people/{alice.pk}/circumstances/",
        f"/people/{alice.pk}/circumstances/new/",
        f"/people/{alice.pk}/keyworker/",
        f"/keywork/allocations/{step6['allocation'].pk}/end/",
        f"/people/{alice.pk}/contacts/",
        f"/people/{alice.pk}/contacts/new/",
        f"/people/{alice.pk}/transfer/",
    ]:
        open_and_check(page, in_place(path))


def test_step_6_forms_sent_empty_summarise_their_errors_accessibly(
    page: Page, live_server, cast, step6, in_place
):
    sign_in(page, live_server, cast[Role.COORDINATOR])
    alice, waiting = step6["alice"], step6["waiting"]
    for path in [
        "/referrals/new/",
        f"/referrals/{waiting.pk}/first-contact/",
        f"/referrals/{waiting.pk}/decline/",
        f"/people/{alice.pk}/consent/new/",
        f"/people/{alice.pk}/network/new-family/",
        f"/people/{alice.pk}/circumstances/new/",
        f"/people/{alice.pk}/contacts/new/",
        f"/people/{alice.pk}/transfer/",
    ]:
        page.goto(in_place(path))
        form = page.locator("main form[method=post]").last
        for box in form.locator("input[type=text], textarea").all():
            box.fill("")
        form.locator("button[type=submit]").last.click()
        check_error_page(page)


def test_a_coordinator_accepts_a_referral_as_a_new_person(
    page: Page, live_server, cast, step6, in_place
):
    # Given a referral waiting in the queue
    sign_in(page, live_server, cast[Role.COORDINATOR])
    page.goto(in_place("/referrals/"))
    page.get_by_role("link", name=step6["waiting"].reference).click()
    # When they accept it, completing the record from what the referral carried
    page.get_by_role("link", name="Accept").click()
    expect(page.locator("#id_given_name")).to_have_value("Rowan")
    page.get_by_label("Family home").check()
    page.locator("#id_learning_disability").check()
    page.locator("#id_autism").check()
    page.locator("#id_ehc_plan").check()
    page.locator("#id_rating").check()
    page.fill("#id_rationale", "In crisis at home")
    page.get_by_role("button", name="Add to the register").click()
    # Then they are on the new person's page, and the referral is linked to it
    expect(page.locator("h1")).to_contain_text("Rowan Waiting")
    expect(page.locator("#referrals")).to_be_visible()
    axe_check(page)
    assert Referral.objects.get(pk=step6["waiting"].pk).person is not None


def test_a_keyworker_logs_a_contact_with_a_follow_up(
    page: Page, live_server, cast, step6, in_place
):
    sign_in(page, live_server, cast[Role.KEYWORKER])
    page.get_by_role("link", name="My caseload").click()
    expect(page.locator("#caseload")).to_contain_text("ASHBY, Alice")
    axe_check(page)
    page.goto(in_place(f"/people/{step6['alice'].pk}/contacts/new/"))
    page.locator("#id_contacted_on-day").fill(str(dates.today().day))
    page.locator("#id_contacted_on-month").fill(str(dates.today().month))
    page.locator("#id_contacted_on-year").fill(str(dates.today().year))
    page.get_by_label("Phone call").check()
    page.fill("#id_with_whom", "Mum")
    page.fill("#id_summary", "Talked about the weekend")
    page.fill("#id_follow_up_1", "Book the short-breaks visit")
    page.select_option("#id_follow_up_1_owner", label="Ola SENCO, SENCO")
    soon = dates.today().replace(year=dates.today().year + 1)
    page.locator("#id_follow_up_1_due-day").fill(str(soon.day))
    page.locator("#id_follow_up_1_due-month").fill(str(soon.month))
    page.locator("#id_follow_up_1_due-year").fill(str(soon.year))
    page.get_by_role("button", name="Log the contact").click()
    expect(page.locator(".dsr-message")).to_contain_text("1 follow-up(s) added as actions")
    expect(page.locator("#open-actions")).to_contain_text("Book the short-breaks visit")


def test_others_see_a_withdrawn_consent_record_only_as_restricted(
    page: Page, live_server, cast, register, step6, in_place
):
    sign_in(page, live_server, cast[Role.KEYWORKER])
    open_and_check(page, in_place(f"/people/{register.ben.pk}/"))
    expect(page.locator("h1")).to_have_text(f"Restricted record {register.ben.pk}")
    expect(page.locator("main")).not_to_contain_text("Brook")
    page.goto(in_place("/people/"))
    expect(page.locator("#restricted-count")).to_contain_text("1 restricted record")


def fill_self_referral(page: Page) -> None:
    page.fill("#id_referrer_name", "Sam Okafor")
    page.select_option("#id_referrer_role", "Parent")
    page.fill("#id_referrer_phone", "07700 900 123")
    page.fill("#id_given_name", "Robin")
    page.fill("#id_family_name", "Okafor")
    born = dates.add_years(dates.today(), -9)
    page.locator("#id_date_of_birth-day").fill(str(born.day))
    page.locator("#id_date_of_birth-month").fill(str(born.month))
    page.locator("#id_date_of_birth-year").fill(str(born.year))
    page.fill("#id_reason", "He is hitting out at home and school has excluded him")
    page.locator("#id_agree").check()


def test_the_public_referral_pages_have_no_violations(page: Page, live_server, place_a):
    place_a.settings.parent_self_referral = True
    place_a.settings.save()
    open_and_check(page, f"{live_server.url}/refer/{place_a.pk}/")
    page.get_by_role("button", name="Send").click()
    check_error_page(page, "Tell us what is happening")
    fill_self_referral(page)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#reference")).to_have_text(Referral.objects.get().reference)
    axe_check(page)


def test_without_javascript_a_parent_refers_their_child(
    new_context, problems, live_server, place_a
):
    # Given a place that takes self-referrals, and a browser with JavaScript off
    place_a.settings.parent_self_referral = True
    place_a.settings.save()
    page = watch(new_context(java_script_enabled=False), problems).new_page()
    page.goto(f"{live_server.url}/refer/{place_a.pk}/")
    expect(page.locator("body")).not_to_have_class(re.compile("js-enabled"))
    # When they send it empty, then the errors are summarised
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Tell us what is happening")
    # When they fill it in and send it
    fill_self_referral(page)
    page.get_by_role("button", name="Send").click()
    # Then they are given a reference, and the team has the referral
    expect(page).to_have_url(re.compile(r"/refer/\d+/sent/$"))
    expect(page.locator("#reference")).to_have_text(Referral.objects.get().reference)


def test_where_self_referral_is_off_the_page_explains_how_to_be_referred(
    page: Page, live_server, place_b
):
    page.goto(f"{live_server.url}/refer/{place_b.pk}/")
    expect(page.locator("h1")).to_have_text("How to be referred to the dynamic support team")
    axe_check(page)
