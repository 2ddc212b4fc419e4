"""Browser fixtures: Debian's Chromium driven by Playwright against Django's live server.

Every page a test opens is watched for console errors, uncaught exceptions and
requests to any other host; a test fails at teardown if any appeared (no request
leaves the machine, and none is made to a third party).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Route, expect

from tests import factories
from tests.factories import PASSWORD, SYSTEM

CHROMIUM = "/usr/bin/chromium"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
LOCAL_HOSTS = {"localhost", "127.0.0.1"}

expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # pytest-base-url (loaded by pytest-playwright) defines its session fixture on
    # an instance; the deprecation is theirs to fix, not a problem in these tests.
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(
                pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance")
            )


@pytest.fixture(scope="session", autouse=True)
def _orm_beside_playwright() -> Iterator[None]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by
    # the tests (building data, reading codes) are still plain synchronous calls.
    # Set for browser tests only, so the rest of the suite keeps Django's guard.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict:
    return {
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# ---------------------------------------------------------------------------
# Console errors, page errors and the network fence
# ---------------------------------------------------------------------------


@dataclass
class Problems:
    """Console errors and uncaught exceptions seen by any page of the test."""

    seen: list[str] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def expect(self, pattern: str) -> None:
        """Declare a console error this test provokes on purpose (e.g. a 404 status)."""
        self.expected.append(re.compile(pattern))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.seen.append(f"console error: {message.text} ({where})")

    def on_page_error(self, error: Exception) -> None:
        self.seen.append(f"page error: {error}")

    def unexpected(self) -> list[str]:
        return [p for p in self.seen if not any(e.search(p) for e in self.expected)]


def _fence(problems: Problems):
    """Answer local requests; refuse any other, and report it: the service makes no
    third-party request (NHS.UK's fonts are off unless a place turns them on)."""

    def fence(route: Route) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in {"data", "blob"} or url.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            problems.seen.append(f"third-party request: {route.request.url}")
            route.abort()

    return fence


def watch(context: BrowserContext, problems: Problems) -> BrowserContext:
    """Fence the context off the network and listen to every page it opens."""

    def on_page(page: Page) -> None:
        page.on("console", problems.on_console)
        page.on("pageerror", problems.on_page_error)

    context.set_default_timeout(15_000)
    context.route("**/*", _fence(problems))
    context.on("page", on_page)
    return context


@pytest.fixture(autouse=True)
def problems() -> Iterator[Problems]:
    """Fails the test (at teardown, after its pages close) on any unexpected problem."""
    found = Problems()
    yield found
    unexpected = found.unexpected()
    assert not unexpected, "The browser reported problems:\n" + "\n".join(unexpected)


@pytest.fixture
def context(new_context, problems: Problems) -> BrowserContext:
    return watch(new_context(), problems)


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# ---------------------------------------------------------------------------
# Accessibility
# ---------------------------------------------------------------------------

_axe = Axe()


def axe_check(page: Page) -> None:
    """WCAG 2.2 A and AA: axe-core must find nothing on the page as it stands, once its
    stylesheets and scripts have loaded (before then a link is its unstyled 17 pixels)."""
    page.wait_for_load_state("load")
    results = _axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    if results.violations_count:
        print(results.generate_report())
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def assert_error_summary_links_land(page: Page) -> list[str]:
    """The NHS error summary is there, and each of its links names an element on the page.

    Returns the summary's messages.
    """
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    links = summary.locator("a")
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    for href in hrefs:
        assert href.startswith("#") and len(href) > 1, f"error summary link {href!r}"
        assert page.locator(f"[id='{href[1:]}']").count() == 1, f"no element for {href}"
    return [text.strip() for text in summary.locator("li").all_inner_texts()]


# ---------------------------------------------------------------------------
# Signing in
# ---------------------------------------------------------------------------


def code_for(device: TOTPDevice) -> str:
    """The code the user's authenticator app shows now."""
    device.refresh_from_db()
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    return f"{token:0{device.digits}d}"


def code_from_key(base32_key: str) -> str:
    """What an authenticator app shows for a key typed in from the enrolment page."""
    from base64 import b32decode

    key = b32decode(base32_key.replace(" ", "").upper())
    return f"{TOTP(key).token():06d}"


def authenticator_for(user) -> TOTPDevice:
    """The user's confirmed authenticator, ready to accept the current code.

    A code is accepted once per 30-second step; a test signing the same user in
    twice within one step is allowed to by forgetting the last step used.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    return device


def sign_in(page: Page, live_server, user, *, next_path: str = "") -> None:
    """Both factors, as the user does it: password page, then the code page."""
    device = authenticator_for(user)
    page.goto(f"{live_server.url}/sign-in/" + (f"?next={next_path}" if next_path else ""))
    page.fill("#id_email", user.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/sign-in/code/$"))
    page.fill("#id_code", code_for(device))
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/sign-in/"))


@pytest.fixture
def signed_in(page: Page, live_server):
    """`signed_in(user)` signs the user in on the test's page and returns that page."""

    def _sign_in(user, next_path: str = "") -> Page:
        sign_in(page, live_server, user, next_path=next_path)
        return page

    return _sign_in


@pytest.fixture
def url(live_server):
    """`url("/sign-in/")`: the live server's address for a path."""
    return lambda path: f"{live_server.url}{path}"


@pytest.fixture
def in_place(live_server, place_a):
    """`in_place("/people/")`: the address of a page of place A (the place is in the URL)."""
    return lambda path: f"{live_server.url}/places/{place_a.pk}{path}"


PLACE_PREFIX = re.compile(r"^/places/\d+")


def place_path(path: str) -> str:
    """A place page's path without its `/places/<id>` prefix: `/people/3/`."""
    return PLACE_PREFIX.sub("", path)


# ---------------------------------------------------------------------------
# A register with something on every page
# ---------------------------------------------------------------------------


@dataclass
class Register:
    alice: object  # open, Green, an event that flags a review, actions, the partner's network
    ben: object  # open, Amber
    cara: object  # closed


@pytest.fixture
def register(place_a, cast) -> Register:
    """Place A with open and closed people, an event, a signal and an action.

    Uses `cast` (tests/conftest.py): one user per role in place A, `outsider`
    coordinating place B, `nobody` with no place.
    """
    from datetime import timedelta

    from dsr.actions import services as actions
    from dsr.core import dates
    from dsr.core.access import Role
    from dsr.people import services as people
    from dsr.risk import services as risk

    today = dates.today()
    alice = factories.make_person(place_a, given_name="Alice", family_name="Ashby")
    ben = factories.make_person(
        place_a, rating="A", given_name="Ben", family_name="Brook", preferred_name="Benny"
    )
    cara = factories.make_person(place_a, given_name="Cara", family_name="Cole")
    people.close_record(
        person=cara,
        reason="risk_reduced",
        closed_on=today,
        note="Settled at home",
        expected_version=cara.version,
        by=SYSTEM,
    )
    risk.log_event(
        person=alice, kind="police", occurred_on=today, description="Missing overnight", by=SYSTEM
    )
    actions.open_action(
        person=alice,
        description="Arrange a keywork visit",
        due_on=today + timedelta(days=7),
        source="other",
        owner_user=cast[Role.KEYWORKER],
        by=SYSTEM,
    )
    # The partner is in Alice's care network, and owns an action about her
    factories.in_network(alice, cast[Role.PARTNER])
    actions.open_action(
        person=alice,
        description="Share the CAMHS plan",
        due_on=today + timedelta(days=3),
        source="other",
        owner_user=cast[Role.PARTNER],
        by=SYSTEM,
    )
    return Register(alice=alice, ben=ben, cara=cara)
