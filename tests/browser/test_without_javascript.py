"""The service works with JavaScript switched off (progressive enhancement)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dsr.core.access import Role
from tests.browser.conftest import sign_in, watch

pytestmark = pytest.mark.browser


def test_without_javascript_a_user_signs_in_searches_and_edits_a_person(
    new_context, problems, live_server, cast, register
):
    # Given a browser with JavaScript switched off
    page = watch(new_context(java_script_enabled=False), problems).new_page()

    # When a coordinator signs in
    sign_in(page, live_server, cast[Role.COORDINATOR])
    expect(page.locator("body")).not_to_have_class(re.compile("js-enabled"))

    # And searches the register
    page.fill("#id_q", "Brook")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#result-count")).to_contain_text("1 person")

    # And edits the person they found
    page.get_by_role("link", name="BROOK, Ben").click()
    page.get_by_role("link", name="Edit details").click()
    page.fill("#id_communication_needs", "Prefers pictures to words")
    page.get_by_role("button", name="Save changes").click()

    # Then the change is saved and shown
    expect(page).to_have_url(re.compile(rf"/people/{register.ben.pk}/$"))
    expect(page.locator(".dsr-message")).to_contain_text("Changes saved")
    expect(page.get_by_role("main")).to_contain_text("Prefers pictures to words")
    register.ben.refresh_from_db()
    assert register.ben.communication_needs == "Prefers pictures to words"
