"""A phone-width screen, and two tabs: on two places, or on one record at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from dsr.core.access import Role
from dsr.places import services as places
from tests.browser.conftest import axe_check, place_path, sign_in
from tests.browser.test_accessibility import header_navigation, person_links
from tests.factories import SYSTEM

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def assert_fits(page: Page) -> None:
    """Nothing wider than the screen: no sideways scrolling of the page, once it has settled
    (the NHS header's script folds the navigation into "More" after it has laid it out)."""
    # Polled from here: wait_for_function evaluates a string in the page, which the CSP
    # (no 'unsafe-eval') refuses; evaluate() goes through the debugger, which it does not.
    page.wait_for_load_state("load")
    overflow = page.evaluate(OVERFLOW)
    for _ in range(30):
        if overflow <= 0:
            break
        page.wait_for_timeout(100)
        overflow = page.evaluate(OVERFLOW)
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.AUDITOR], ids=["coordinator", "auditor"])
def test_every_page_fits_a_375_pixel_screen(
    role, new_context, problems, live_server, cast, register, in_place
):
    # Given a phone-width screen
    from tests.browser.conftest import watch

    page = watch(new_context(viewport=PHONE), problems).new_page()
    sign_in(page, live_server, cast[role])
    assert_fits(page)
    # When the user opens every page of their navigation, and a person's pages
    paths = header_navigation(page)
    if role is Role.COORDINATOR:
        page.goto(in_place(f"/people/{register.alice.pk}/"))
        paths += [f"/people/{register.alice.pk}/", *person_links(page, register.alice.pk)]
        paths += ["/people/?status=all", "/rising-risk/", "/my-work/"]
    else:
        paths += [f"/people/{register.alice.pk}/access/", "/audit/?action=viewed"]
    for path in paths:
        page.goto(in_place(place_path(path)))
        # Then each fits the screen
        assert_fits(page)


def test_two_tabs_on_two_places_save_side_by_side(context, live_server, cast, register, place_b):
    # Given a coordinator of place A who is also a viewer of place B
    user = cast[Role.COORDINATOR]
    places.grant_membership(user=user, place=place_b, role=Role.VIEWER, by=SYSTEM)
    first = context.new_page()
    sign_in(first, live_server, user)
    alice = f"{live_server.url}/places/{register.alice.place_id}/people/{register.alice.pk}"

    # When they open Alice's edit form in one tab
    first.goto(f"{alice}/edit/")
    first.fill("#id_communication_needs", "Uses a picture board")

    # And switch to place B in another tab
    second = context.new_page()
    second.goto(f"{live_server.url}/")
    second.select_option("#place-switcher", str(place_b.pk))
    second.get_by_role("button", name="Switch place").click()
    expect(second).to_have_url(re.compile(rf"/places/{place_b.pk}/people/$"))
    expect(second.locator("h1")).to_contain_text(place_b.name)

    # Then saving in the first tab still saves to place A's record
    first.get_by_role("button", name="Save changes").click()
    expect(first.locator(".dsr-message")).to_contain_text("Changes saved")
    register.alice.refresh_from_db()
    assert register.alice.communication_needs == "Uses a picture board"


def test_two_tabs_editing_one_record_keep_the_second_persons_typing(
    context, live_server, cast, register
):
    # Given the same record open for editing in two tabs
    first, second = context.new_page(), context.new_page()
    sign_in(first, live_server, cast[Role.COORDINATOR])
    edit = f"{live_server.url}/places/{register.alice.place_id}/people/{register.alice.pk}/edit/"
    first.goto(edit)
    second.goto(edit)

    # When the first saves a new address, and the second then saves their own change
    first.fill("#id_address", "2 New Road")
    first.get_by_role("button", name="Save changes").click()
    expect(first.locator(".dsr-message")).to_contain_text("Changes saved")
    second.fill("#id_preferred_name", "Ally")
    second.get_by_role("button", name="Save changes").click()

    # Then the second is told what changed meanwhile, and keeps what they typed
    expect(second.locator(".nhsuk-error-summary")).to_contain_text("Someone else changed")
    expect(second.locator("#changed-since")).to_contain_text("2 New Road")
    expect(second.locator("#id_preferred_name")).to_have_value("Ally")
    axe_check(second)

    # And saving again applies their change on top of the first
    second.get_by_role("button", name="Save changes").click()
    expect(second.locator(".dsr-message")).to_contain_text("Changes saved")
    register.alice.refresh_from_db()
    assert (register.alice.address, register.alice.preferred_name) == ("2 New Road", "Ally")
