"""Every page each role can reach, and every form's error state, checked by axe-core
against WCAG 2.2 A and AA, with no console errors (conftest's `problems`)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from dsr.core.access import Role
from tests.browser.conftest import (
    assert_error_summary_links_land,
    authenticator_for,
    axe_check,
    code_for,
    place_path,
    sign_in,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

# Pages each role must at least find in its header navigation.
NAVIGATION = {
    Role.COORDINATOR: {"/people/", "/people/new/", "/settings/"},
    Role.KEYWORKER: {"/people/"},
    Role.PARTNER: {"/people/"},
    Role.VIEWER: {"/people/", "/settings/"},
    Role.AUDITOR: {"/audit/"},
    Role.PLACE_ADMIN: {"/settings/"},
}
# Roles that can open a person's record from the register (the partner: those whose care
# network includes them; the register fixture puts them in Alice's).
SEES_PEOPLE = {Role.COORDINATOR, Role.KEYWORKER, Role.VIEWER, Role.PARTNER}


def header_navigation(page: Page) -> list[str]:
    """The paths of the header navigation links (not the account links), in order, without
    repeats."""
    hrefs: list[str] = []
    for link in page.locator("header nav.nhsuk-header__navigation a").all():
        path = place_path(urlsplit(link.get_attribute("href") or "").path)
        if path and path not in hrefs:
            hrefs.append(path)
    return hrefs


def person_links(page: Page, person_id: int) -> list[str]:
    """Links on a person's page to the pages about them (forms, history, actions)."""
    paths: list[str] = []
    for link in page.locator("main a, .nhsuk-back-link a, a.nhsuk-back-link").all():
        path = place_path(urlsplit(link.get_attribute("href") or "").path)
        about_them = path.startswith(f"/people/{person_id}/") or path.startswith("/actions/")
        if about_them and path != f"/people/{person_id}/" and path not in paths:
            paths.append(path)
    return paths


def open_and_check(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    expect(page.locator("h1")).to_be_visible()
    axe_check(page)


# ---------------------------------------------------------------------------
# Signing in and out
# ---------------------------------------------------------------------------


def test_sign_in_code_enrolment_and_signed_out_pages_have_no_violations(
    page, live_server, cast, url
):
    # Given a coordinator with an authenticator and a keyworker without one
    coordinator, keyworker = cast[Role.COORDINATOR], cast[Role.KEYWORKER]
    authenticator_for(coordinator)

    # When each sign-in page is shown, then axe finds nothing
    open_and_check(page, url("/sign-in/"))
    page.fill("#id_email", coordinator.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile("/sign-in/code/$"))
    axe_check(page)

    # A password alone: told a set-up link is needed
    page.context.clear_cookies()
    page.goto(url("/sign-in/"))
    page.fill("#id_email", keyworker.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("You need a set-up link first")
    axe_check(page)

    # With a set-up link: the link page, then the set-up page
    from django.urls import reverse

    from dsr.accounts import services
    from tests.factories import SYSTEM

    page.context.clear_cookies()
    token = services.issue_enrolment_link(user=keyworker, by=SYSTEM)
    open_and_check(page, url(reverse("accounts:setup_link", args=[token])))
    page.get_by_role("link", name="Sign in to continue").click()
    page.fill("#id_email", keyworker.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile("/sign-in/set-up-authenticator/$"))
    expect(page.locator("#totp-secret")).to_be_visible()
    axe_check(page)

    # And, signed in, the page that changes their authenticator app (reached by their name)
    page.context.clear_cookies()
    sign_in(page, live_server, coordinator)
    page.get_by_role("link", name=coordinator.full_name).click()
    expect(page.locator("h1")).to_have_text("Change your authenticator app")
    expect(page.locator("#totp-secret")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Change authenticator app").click()  # empty: errors
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    axe_check(page)

    # And the page after signing out
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile("/signed-out/$"))
    axe_check(page)


# ---------------------------------------------------------------------------
# Every page in each role's navigation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_every_page_a_role_reaches_from_the_navigation_has_no_violations(
    role, page, live_server, cast, register, url, in_place
):
    # Given a signed-in user of the role, on the page they land on
    sign_in(page, live_server, cast[role])
    axe_check(page)

    # When they follow each link of the header navigation
    navigation = header_navigation(page)
    assert NAVIGATION[role] <= set(navigation), navigation
    for path in navigation:
        # Then each page has no violations
        open_and_check(page, in_place(path))

    if role in SEES_PEOPLE:
        # And the register, searched and filtered to nothing
        open_and_check(page, in_place("/people/?q=Ashby"))
        expect(page.locator("#register-table")).to_contain_text("Alice")
        open_and_check(page, in_place("/people/?q=nobody+called+this&rating=R&status=all"))
        expect(page.locator("#result-count")).to_contain_text("0 people")
        open_and_check(page, in_place("/people/?status=closed"))

        # And the person's page, with every page it links to about them
        page.goto(in_place("/people/"))
        page.get_by_role("link", name="ASHBY, Alice").click()
        expect(page.locator("h1")).to_contain_text("Alice Ashby")
        axe_check(page)
        for path in person_links(page, register.alice.pk):
            open_and_check(page, in_place(path))
        # And a closed record (a partner only sees the people in their network)
        if role is not Role.PARTNER:
            open_and_check(page, in_place(f"/people/{register.cara.pk}/"))

    if role is Role.AUDITOR:
        # The auditor reaches "who has accessed" by a person's ID, not the register
        open_and_check(page, in_place(f"/people/{register.alice.pk}/access/"))
        open_and_check(page, in_place(f"/audit/?person={register.alice.pk}&action=viewed"))
        # And the sign-in refusals that name no account, chosen on the search form
        page.goto(in_place("/audit/"))
        page.get_by_label("Events").select_option(
            label="Sign-in refusals that name no account (every place)"
        )
        page.get_by_role("button", name="Search the audit trail").click()
        expect(page.locator("main")).to_contain_text("name no account of the register")
        axe_check(page)


def test_a_coordinator_sees_edit_close_and_access_pages_from_a_record(
    page, live_server, cast, register, in_place
):
    # Given a coordinator on Alice's page
    sign_in(page, live_server, cast[Role.COORDINATOR])
    page.goto(in_place(f"/people/{register.alice.pk}/"))

    # Then the pages the brief names are among those linked from it
    links = person_links(page, register.alice.pk)
    for suffix in ("edit/", "close/", "access/"):
        assert f"/people/{register.alice.pk}/{suffix}" in links, links


def test_not_found_page_has_no_violations(
    page, live_server, cast, register, problems, url, in_place
):
    # Given a signed-in coordinator
    sign_in(page, live_server, cast[Role.COORDINATOR])
    problems.expect(r"status of 404")

    # When they open an address that does not exist, or a person who does not
    for address in (url("/no-such-page/"), in_place("/people/999999/")):
        response = page.goto(address)
        # Then they get the accessible NHS "Page not found" page
        assert response is not None and response.status == 404
        expect(page.locator("h1")).to_have_text("Page not found")
        axe_check(page)


def test_no_place_page_has_no_violations(page, live_server, cast):
    # Given a user who belongs to no place
    # When they sign in
    sign_in(page, live_server, cast["nobody"])

    # Then they are told so, on an accessible page with no navigation
    expect(page.locator("h1")).to_have_text("You do not have access to a place yet")
    assert page.locator("header nav.nhsuk-header__navigation a").count() == 0
    axe_check(page)


# ---------------------------------------------------------------------------
# Error states: the NHS error summary, accessible, linked to the fields
# ---------------------------------------------------------------------------


def check_error_page(page: Page, *messages: str) -> None:
    """Axe finds nothing; the error summary has focus and its links land on fields."""
    found = assert_error_summary_links_land(page)
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    for message in messages:
        assert any(message in text for text in found), (message, found)
    axe_check(page)


def test_sign_in_errors_are_summarised_accessibly(page, cast, url):
    # Given the sign-in page
    user = cast[Role.COORDINATOR]
    page.goto(url("/sign-in/"))

    # When it is sent empty
    page.get_by_role("button", name="Continue").click()
    # Then each missing field is summarised and linked
    check_error_page(page)
    assert page.locator(".nhsuk-error-summary a").count() == 2

    # When the password is wrong
    page.fill("#id_email", user.email)
    page.fill("#id_password", "not-the-password")
    page.get_by_role("button", name="Continue").click()
    # Then the problem is summarised without saying which part was wrong
    check_error_page(page, "Enter a correct email address and password")
    expect(page).to_have_url(re.compile("/sign-in/$"))


def test_wrong_security_code_is_summarised_accessibly(page, cast, url):
    # Given a user past the password step
    user = cast[Role.COORDINATOR]
    authenticator_for(user)
    page.goto(url("/sign-in/"))
    page.fill("#id_email", user.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Continue").click()

    # When they enter a code that is not the one their app shows
    page.fill("#id_code", "000000")
    page.get_by_role("button", name="Sign in").click()

    # Then the error is summarised, linked to the code field, and accessible
    check_error_page(page, "The security code is not correct")
    expect(page).to_have_url(re.compile("/sign-in/code/$"))
    assert TOTPDevice.objects.get(user=user).throttling_failure_count == 1


def test_codes_held_back_too_many_attempts_and_locked_out_pages_say_whom_to_ask(
    page, cast, url, settings, problems
):
    from django.utils import timezone

    problems.expect(r"status of 429")  # both refusals answer Too Many Requests

    # Given a user whose authenticator has had five wrong codes just now
    user = cast[Role.COORDINATOR]
    device = authenticator_for(user)
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=5, throttling_failure_timestamp=timezone.now()
    )
    page.goto(url("/sign-in/"))
    page.fill("#id_email", user.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Continue").click()

    # When they enter the right code
    page.fill("#id_code", code_for(device))
    page.get_by_role("button", name="Sign in").click()

    # Then they are told to wait, not that the code is wrong, and whom to ask
    check_error_page(page, "Too many wrong codes. Wait")
    expect(page.get_by_role("heading", name="If you cannot sign in")).to_be_visible()

    # Given an address that has had its share of refusals
    settings.SIGN_IN_FAILURES_RATE = "2/h"
    page.context.clear_cookies()
    for _ in range(3):
        page.goto(url("/sign-in/"))
        page.fill("#id_email", f"someone-{_}@example.org")
        page.fill("#id_password", "not-the-password")
        page.get_by_role("button", name="Continue").click()
    # Then it is told why, for how long, and whom to ask
    expect(page.locator("h1")).to_have_text("Too many attempts from this network address")
    axe_check(page)

    # And a user locked out by repeated wrong passwords is told the same kind of thing
    settings.SIGN_IN_FAILURES_RATE = "1000/h"
    page.context.clear_cookies()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        page.goto(url("/sign-in/"))
        page.fill("#id_email", user.email)
        page.fill("#id_password", "not-the-password")
        page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Sign-in is locked for now")
    axe_check(page)

    # And an account whose password has been right too often is told so
    settings.SIGN_IN_PASSWORDS_PER_ACCOUNT_RATE = "1/h"
    colleague = cast[Role.KEYWORKER]
    authenticator_for(colleague)
    for _ in range(2):
        page.context.clear_cookies()
        page.goto(url("/sign-in/"))
        page.fill("#id_email", colleague.email)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Too many sign-ins to this account")
    axe_check(page)


def test_person_form_errors_are_summarised_accessibly(
    page, live_server, cast, register, url, in_place
):
    # Given a signed-in coordinator
    sign_in(page, live_server, cast[Role.COORDINATOR])

    # When they send the add-a-person form empty
    page.goto(in_place("/people/new/"))
    page.get_by_role("button", name="Add to the register").click()
    # Then every required field is summarised and linked, and the page is accessible
    check_error_page(page, "Enter the date of birth")
    assert page.locator(".nhsuk-error-summary a").count() >= 5
    # And following a summary link takes focus to that field
    first = page.locator(".nhsuk-error-summary a").first
    target = (first.get_attribute("href") or "#")[1:]
    first.click()
    expect(page.locator(f"[id='{target}']")).to_be_focused()

    # When they edit a person with a bad NHS number
    page.goto(in_place(f"/people/{register.alice.pk}/edit/"))
    page.fill("#id_nhs_number", "123 456 7890")
    page.get_by_role("button", name="Save changes").click()
    # Then the NHS number error is summarised and linked to the field
    check_error_page(page, "NHS number")
    expect(page.locator(".nhsuk-error-summary a[href='#id_nhs_number']")).to_have_count(1)

    # When they send the close form empty
    page.goto(in_place(f"/people/{register.alice.pk}/close/"))
    page.get_by_role("button", name="Close record").click()
    # Then the reason and date are summarised and linked
    check_error_page(page)
    expect(page.locator(".nhsuk-error-summary a[href='#id_closure_reason']")).to_have_count(1)
    expect(page.locator(".nhsuk-error-summary a[href='#id_closed_on-day']")).to_have_count(1)


def test_every_form_about_a_person_sent_empty_summarises_its_errors_accessibly(
    page, live_server, cast, register, url, in_place
):
    # Given a coordinator, and the pages linked from a person's page
    sign_in(page, live_server, cast[Role.COORDINATOR])
    page.goto(in_place(f"/people/{register.alice.pk}/"))
    forms = []
    for path in person_links(page, register.alice.pk):
        page.goto(in_place(path))
        form = page.locator("main form[method=post]")
        if not form.count():
            continue
        forms.append(path)
        # When a form there is sent with every text box emptied
        for box in form.locator("input[type=text], textarea").all():
            box.fill("")
        form.locator("button[type=submit]").last.click()
        # Then its errors are summarised, linked to their fields, and accessible
        check_error_page(page)
    assert len(forms) >= 6, forms
