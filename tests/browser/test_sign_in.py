"""Signing in with both factors, setting up an authenticator, and signing out."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from dsr.core.access import Role
from tests.browser.conftest import axe_check, code_from_key, sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_signing_in_with_password_and_code_lands_on_the_page_asked_for(
    page, live_server, cast, register
):
    # Given a coordinator who followed a link to Alice's record while signed out
    # When they sign in with their password and their authenticator's code
    alice = f"/places/{register.alice.place_id}/people/{register.alice.pk}/"
    sign_in(page, live_server, cast[Role.COORDINATOR], next_path=alice)

    # Then they arrive on Alice's record
    expect(page).to_have_url(re.compile(rf"/people/{register.alice.pk}/$"))
    expect(page.locator("h1")).to_contain_text("Alice Ashby")


def test_a_user_without_an_authenticator_sets_one_up_from_the_key_and_is_signed_in(
    page, cast, register, url
):
    # Given a coordinator who has never set up an authenticator app, sent a set-up link
    from django.urls import reverse

    from dsr.accounts import services
    from tests.factories import SYSTEM

    user = cast[Role.COORDINATOR]
    assert not TOTPDevice.objects.filter(user=user).exists()
    token = services.issue_enrolment_link(user=user, by=SYSTEM)

    # When they open the link, then give their password
    page.goto(url(reverse("accounts:setup_link", args=[token])))
    page.get_by_role("link", name="Sign in to continue").click()
    page.fill("#id_email", user.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Continue").click()

    # Then they are asked to set one up, shown a QR code and the key as text
    expect(page).to_have_url(re.compile("/sign-in/set-up-authenticator/$"))
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    key = page.locator("#totp-secret").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", key), key
    axe_check(page)

    # When they type the key into their app and enter the code it shows
    page.fill("#id_code", code_from_key(key))
    page.get_by_role("button", name="Confirm and sign in").click()

    # Then they are signed in, on the register, with a confirmed authenticator
    expect(page).to_have_url(re.compile("/people/$"))
    expect(page.locator("h1")).to_contain_text("Register")
    assert TOTPDevice.objects.get(user=user).confirmed


def test_signing_out_ends_the_session(page, live_server, cast, register, url, in_place):
    # Given a signed-in coordinator
    sign_in(page, live_server, cast[Role.COORDINATOR])

    # When they choose "Sign out" in the header
    page.locator("header").get_by_role("button", name="Sign out").click()

    # Then they are told they have signed out
    expect(page).to_have_url(re.compile("/signed-out/$"))
    expect(page.locator("h1")).to_have_text("You have signed out")
    expect(page.locator("header")).not_to_contain_text("Coordinator")

    # And the register now asks them to sign in
    page.goto(in_place("/people/"))
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=%2Fplaces%2F\d+%2Fpeople%2F$"))
    expect(page.locator("h1")).to_have_text("Sign in")
