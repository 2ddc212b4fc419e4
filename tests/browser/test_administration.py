"""The place admin's pages, the invitation journey and NHS sign-in, in the browser, each page
checked by axe (WCAG 2.2 A and AA), the error states too."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import Page, expect

from dsr.accounts.models import ExternalIdentity
from dsr.core.access import Role
from dsr.core.models import OutgoingEmail
from dsr.places.models import Membership, PlaceSettings
from tests import oidc_provider
from tests.browser.conftest import assert_error_summary_links_land, code_from_key, sign_in
from tests.browser.conftest import axe_check as _axe_check

pytestmark = pytest.mark.browser


def axe_check(page: Page) -> None:
    """Once the page has loaded (its header script lays the navigation out), axe."""
    page.wait_for_load_state("load")
    _axe_check(page)


def check_errors(page: Page, *messages: str) -> None:
    found = assert_error_summary_links_land(page)
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    for message in messages:
        assert any(message in text for text in found), (message, found)
    axe_check(page)


def test_the_place_admin_invites_a_user_and_manages_their_role_on_accessible_pages(
    page, live_server, cast, place_a, in_place
):
    # Given the place admin, signed in: they land on the place's users
    sign_in(page, live_server, cast[Role.PLACE_ADMIN])
    expect(page.locator("h1")).to_have_text("Users of Place A")
    axe_check(page)

    # When they send the invitation form empty, then every problem is summarised
    page.get_by_role("link", name="Invite a user").click()
    expect(page.locator("h1")).to_have_text("Invite a user to Place A")
    axe_check(page)
    page.get_by_role("button", name="Send invitation").click()
    check_errors(page, "Enter the full name", "Select a role")

    # When they invite someone as a keyworker
    page.fill("#id_full_name", "Kim Newcomer")
    page.fill("#id_email", "kim.newcomer@nhs.example")
    page.get_by_label("Keyworker", exact=True).check()
    page.get_by_role("button", name="Send invitation").click()

    # Then they are told it was sent, and the user is listed as invited
    expect(page.locator(".dsr-message")).to_contain_text("We have sent kim.newcomer@nhs.example")
    expect(page.locator("#users")).to_contain_text("Invited, not set up yet")
    assert OutgoingEmail.objects.get(to="kim.newcomer@nhs.example").status == "sent"

    # When they open the new member and change their role
    page.get_by_role("link", name="Kim Newcomer").click()
    expect(page.locator("h1")).to_have_text("Kim Newcomer")
    axe_check(page)
    page.get_by_label("Viewer", exact=True).check()
    page.get_by_role("button", name="Save role").click()
    expect(page.locator("#member")).to_contain_text("Viewer")
    membership = Membership.objects.get(user__email="kim.newcomer@nhs.example")
    assert membership.role == Role.VIEWER

    # And the confirmation pages of the one-button actions are accessible too
    for action, title in (("resend", "Send a new invitation"), ("remove", "Remove their")):
        page.goto(in_place(f"/users/{membership.pk}/{action}/"))
        expect(page.locator("h1")).to_contain_text(title)
        axe_check(page)
    page.goto(in_place(f"/users/{membership.pk}/"))
    page.get_by_role("link", name="Deactivate their account").click()
    expect(page.locator("h1")).to_contain_text("Deactivate their account")
    axe_check(page)
    page.get_by_role("button", name="Deactivate their account").click()
    expect(page.locator("#member")).to_contain_text("Account deactivated")
    axe_check(page)


def test_the_place_admin_changes_a_setting_after_seeing_what_it_affects(
    page, live_server, cast, place_a, register
):
    # Given the place admin on the settings page
    sign_in(page, live_server, cast[Role.PLACE_ADMIN])
    page.locator("header").get_by_role("link", name="Place settings").click()
    expect(page.locator("h1")).to_have_text("Settings for Place A")
    axe_check(page)
    page.get_by_role("link", name="Change settings").click()
    expect(page.locator("h1")).to_have_text("Change settings for Place A")
    axe_check(page)

    # When a number is out of range, then it is summarised and linked to its box
    page.fill("#id_review_days_amber", "0")
    page.get_by_role("button", name="Continue").click()
    check_errors(page, "Days between reviews when Amber must be between 1 and 365")

    # When they shorten the Amber interval
    page.fill("#id_review_days_amber", "21")
    page.get_by_role("button", name="Continue").click()

    # Then they see what it affects before anything is saved
    expect(page.locator("h1")).to_have_text("Check your changes")
    expect(page.locator("#change-review_days_amber")).to_contain_text(
        "1 person rated Amber: each one's next review would be due 7 days sooner"
    )
    axe_check(page)
    assert PlaceSettings.objects.get(place=place_a).review_days_amber == 28

    # And saving applies it
    page.get_by_role("button", name="Save these changes").click()
    expect(page.locator(".dsr-message")).to_contain_text("Settings saved")
    expect(page.locator("#setting-review_days_amber")).to_contain_text("21")
    assert PlaceSettings.objects.get(place=place_a).review_days_amber == 21


def test_the_organisations_and_risk_factor_pages_are_accessible_with_their_errors(
    page, live_server, cast, place_a, in_place
):
    sign_in(page, live_server, cast[Role.PLACE_ADMIN])
    page.goto(in_place("/settings/organisations/"))
    axe_check(page)
    page.get_by_role("button", name="Add organisation").click()
    check_errors(page, "Enter the name")
    page.fill("#id_name", "Northbridge CAMHS")
    page.get_by_label("Kind of organisation").select_option("nhs_trust")
    page.get_by_role("button", name="Add organisation").click()
    expect(page.locator("#organisations")).to_contain_text("Northbridge CAMHS")
    page.get_by_role("link", name="Change Northbridge CAMHS").click()
    expect(page.locator("h1")).to_have_text("Change Northbridge CAMHS")
    axe_check(page)

    page.goto(in_place("/settings/risk-factors/"))
    axe_check(page)
    page.get_by_role("button", name="Add risk factor").click()
    check_errors(page, "Enter the risk factor")
    page.fill("#id_label", "Exclusion from school")
    page.get_by_role("button", name="Add risk factor").click()
    expect(page.locator("#risk-factors")).to_contain_text("Exclusion from school")
    page.get_by_role("button", name=re.compile(r"^Move up\W+Exclusion from school$")).click()
    expect(page.locator("#risk-factors tbody tr").nth(-2)).to_contain_text("Exclusion from school")
    axe_check(page)
    page.get_by_role("link", name="Change Exclusion from school").click()
    expect(page.locator("h1")).to_have_text("Change a risk factor")
    axe_check(page)


def test_an_invited_user_sets_a_password_and_an_authenticator_and_arrives_in_their_place(
    page, cast, place_a, url, problems
):
    problems.expect(r"status of 404")
    # Given someone invited by the place admin (the link is in their email)
    from dsr.core import audit
    from dsr.places import team

    admin = cast[Role.PLACE_ADMIN]
    invited = team.invite_user(
        place=place_a,
        email="sam.invited@nhs.example",
        full_name="Sam Invited",
        role=Role.KEYWORKER,
        by=audit.Context(
            actor=admin, place_id=place_a.pk, actor_label=admin.email, role=Role.PLACE_ADMIN
        ),
    )
    link = url(f"/sign-in/set-up/{invited.token}/")

    # When they open it and choose passwords that do not match
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Set up your account")
    axe_check(page)
    page.fill("#id_password", "a perfectly long passphrase")
    page.fill("#id_again", "a different long passphrase")
    page.get_by_role("button", name="Continue").click()
    check_errors(page, "The passwords do not match")

    # When they choose a good one
    page.fill("#id_password", "a perfectly long passphrase")
    page.fill("#id_again", "a perfectly long passphrase")
    page.get_by_role("button", name="Continue").click()

    # Then they set up their authenticator app and arrive on the register
    expect(page).to_have_url(re.compile("/sign-in/set-up-authenticator/$"))
    key = page.locator("#totp-secret").inner_text()
    page.fill("#id_code", code_from_key(key))
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.locator("h1")).to_contain_text("Register")

    # And the link no longer works
    page.context.clear_cookies()
    response = page.goto(link)
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("This set-up link cannot be used")
    axe_check(page)


@pytest.fixture
def cis2(settings, live_server):
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        with oidc_provider.running() as provider:
            key = oidc_provider.new_private_key()
            provider.register_client("dsr-cis2", private_key=key)
            settings.OIDC_PROVIDERS = {
                "cis2": provider.settings(
                    "dsr-cis2",
                    label="NHS Care Identity Service 2",
                    private_key=key,
                    mfa_acr=["AAL3_ANY"],
                )
            }
            settings.SITE_URL = live_server.url
            yield provider
    finally:
        del os.environ["AUTHLIB_INSECURE_TRANSPORT"]


def test_an_invited_user_signs_in_with_cis2_in_the_browser(
    page, cis2, cast, place_a, url, problems
):
    problems.expect(r"status of 400")
    # Given someone invited, and known to CIS2 with a smartcard sign-in
    from dsr.places import team
    from tests.factories import SYSTEM

    invited = team.invite_user(
        place=place_a,
        email="cis2.user@nhs.example",
        full_name="Chris Smartcard",
        role=Role.COORDINATOR,
        by=SYSTEM,
    )
    cis2.set_user("555000111222", email="cis2.user@nhs.example", acr="AAL3_ANY")

    # When they open their invitation and choose to sign in with CIS2
    page.goto(url(f"/sign-in/set-up/{invited.token}/"))
    axe_check(page)
    page.get_by_role("button", name="Sign in with NHS Care Identity Service 2").click()

    # And sign in at CIS2
    page.fill("input[name=sub]", "555000111222")
    page.get_by_role("button", name="Authorize").click()

    # Then they arrive on the register, signed in without our authenticator
    expect(page.locator("h1")).to_contain_text("Register")
    assert ExternalIdentity.objects.get(subject="555000111222").user == invited.membership.user

    # When someone CIS2 knows but the register does not signs in
    page.context.clear_cookies()
    cis2.set_user("999999999999", email="stranger@nhs.example", acr="AAL3_ANY")
    page.goto(url("/sign-in/"))
    axe_check(page)
    page.get_by_role("button", name="Sign in with NHS Care Identity Service 2").click()
    page.fill("input[name=sub]", "999999999999")
    page.get_by_role("button", name="Authorize").click()

    # Then they are told clearly, on an accessible page
    expect(page.locator("h1")).to_have_text("You have not been signed in")
    expect(page.locator("#refusal")).to_contain_text("not linked to this register")
    axe_check(page)
