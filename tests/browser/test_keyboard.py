"""The main journey with the keyboard alone: Tab, type, Enter. No clicks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from dsr.core.access import Role
from tests.browser.conftest import authenticator_for, code_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Press Tab until `target` has focus, as a keyboard user moves through the page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            expect(target).to_be_focused()
            return
    raise AssertionError(f"Tab never reached {target}")


def test_a_keyboard_user_signs_in_finds_a_person_and_changes_their_preferred_name(
    page, cast, register, url
):
    user = cast[Role.COORDINATOR]
    device = authenticator_for(user)

    # Given the sign-in page
    page.goto(url("/sign-in/"))

    # When they Tab to each field, type, and press Enter
    tab_to(page, page.locator("#id_email"))
    page.keyboard.type(user.email)
    tab_to(page, page.locator("#id_password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/sign-in/code/$"))
    tab_to(page, page.locator("#id_code"))
    page.keyboard.type(code_for(device))
    page.keyboard.press("Enter")

    # Then they are on the register
    expect(page).to_have_url(re.compile("/people/$"))

    # When they type a name into the search box and press Enter
    tab_to(page, page.locator("#id_q"))
    page.keyboard.type("Ashby")
    page.keyboard.press("Enter")

    # Then the register shows the one match
    expect(page).to_have_url(re.compile(r"/people/\?q=Ashby"))
    expect(page.locator("#result-count")).to_contain_text("1 person")

    # When they Tab to the person's link and press Enter
    tab_to(page, page.get_by_role("link", name="ASHBY, Alice"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/people/{register.alice.pk}/$"))

    # And Tab to "Edit details" and press Enter
    tab_to(page, page.get_by_role("link", name="Edit details"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/people/{register.alice.pk}/edit/$"))

    # And Tab to the preferred name, replace it, and press Enter to save
    tab_to(page, page.locator("#id_preferred_name"))
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("Ally")
    page.keyboard.press("Enter")

    # Then the person's page shows the saved name
    expect(page).to_have_url(re.compile(rf"/people/{register.alice.pk}/$"))
    expect(page.locator(".dsr-message")).to_contain_text("Changes saved")
    expect(page.locator("h1")).to_contain_text("Known as Ally")
    register.alice.refresh_from_db()
    assert register.alice.preferred_name == "Ally"
