"""The load driver: virtual users over plain HTTP to 127.0.0.1, with per-request timings.

Written with threads and http.client rather than locust: a few hundred lines of
dependency we would not otherwise need, for a closed loop we can bound exactly in
requests and seconds. Each virtual user keeps its own cookies, signs in once through the
real two-step form (password, then a TOTP code computed with django_otp.oath.totp), then
loops over the pages. Only 127.0.0.1 is ever addressed.
"""

from __future__ import annotations

import http.client
import math
import random
import re
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import psycopg
from django_otp.oath import totp  # pure functions: no Django settings needed

from bench import common

HOST = "127.0.0.1"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MAX_REQUESTS = 100_000  # a hard bound on any one phase, whatever its duration


class LoadError(RuntimeError):
    pass


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str
    ms: float


class Browser:
    """One virtual user: a cookie jar and a fresh connection per request.

    gunicorn's sync workers close the connection after each response anyway.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Response:
        headers = {"Host": HOST, "Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            content = raw.read()
            ms = (time.perf_counter() - started) * 1000
            for name, value in raw.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookie = rest.split(";", 1)[0]
                    if cookie and cookie != '""':
                        self.cookies[key.strip()] = cookie
                    else:
                        self.cookies.pop(key.strip(), None)
            headers_out = {k.lower(): v for k, v in raw.getheaders()}
            return Response(raw.status, headers_out, content.decode("utf-8", "replace"), ms)
        finally:
            conn.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post_form(self, form_path: str, post_path: str, data: dict[str, str]) -> Response:
        """GET the form for its CSRF token (untimed), then POST it (timed)."""
        page = self.get(form_path)
        match = CSRF_FIELD.search(page.body)
        if page.status != 200 or match is None:
            raise LoadError(f"GET {form_path}: {page.status}, no CSRF token")
        return self.request("POST", post_path, {"csrfmiddlewaretoken": match.group(1), **data})


@dataclass
class Coordinator:
    email: str
    place_id: int
    key: str  # the TOTP device's hex key


def current_code(key_hex: str) -> str:
    return f"{totp(bytes.fromhex(key_hex)):06d}"


def sign_in(browser: Browser, user: Coordinator) -> float:
    """The two POSTs of our sign-in; returns their total time in ms."""
    first = browser.post_form(
        "/sign-in/", "/sign-in/", {"email": user.email, "password": common.PASSWORD}
    )
    if first.status != 302 or "/sign-in/code/" not in first.headers.get("location", ""):
        raise LoadError(f"sign-in for {user.email}: {first.status}")
    for attempt in range(2):
        second = browser.post_form(
            "/sign-in/code/", "/sign-in/code/", {"code": current_code(user.key)}
        )
        if second.status == 302:
            return first.ms + second.ms
        # A code is refused if this device already used this 30-second step (a recent
        # run, say): wait for the next step once.
        if attempt == 0:
            time.sleep(31 - time.time() % 30)
    raise LoadError(f"TOTP code refused for {user.email}")


def sign_in_admin(browser: Browser) -> None:
    response = browser.post_form(
        "/admin/login/",
        "/admin/login/?next=/admin/",
        {"username": common.ADMIN_EMAIL, "password": common.PASSWORD, "next": "/admin/"},
    )
    if response.status != 302:
        raise LoadError(f"admin sign-in: {response.status}")


@dataclass
class Register:
    """What the driver needs to know of a database: who can sign in, and whom to look at."""

    coordinators: list[Coordinator]
    people: dict[int, list[int]]
    surnames: dict[int, list[str]]
    keyworkers: dict[int, list[int]] = field(default_factory=dict)
    meetings: dict[int, int] = field(default_factory=dict)  # place: the meeting being prepared

    @classmethod
    def read(cls, database_url: str) -> Register:
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(
                "SELECT u.email, m.place_id, d.key FROM accounts_user u"
                " JOIN places_membership m ON m.user_id = u.id"
                " JOIN otp_totp_totpdevice d ON d.user_id = u.id AND d.confirmed"
                " WHERE m.role = 'coordinator' AND m.is_active ORDER BY u.email"
            ).fetchall()
            people: dict[int, list[int]] = defaultdict(list)
            surnames: dict[int, list[str]] = defaultdict(list)
            for place_id, person_id, family_name in conn.execute(
                "SELECT place_id, id, family_name FROM people_person ORDER BY id"
            ):
                people[place_id].append(person_id)
                surnames[place_id].append(family_name)
            keyworkers: dict[int, list[int]] = defaultdict(list)
            for place_id, user_id in conn.execute(
                "SELECT place_id, user_id FROM places_membership"
                " WHERE role = 'keyworker' AND is_active ORDER BY user_id"
            ):
                keyworkers[place_id].append(user_id)
            meetings = dict(
                conn.execute(
                    "SELECT place_id, max(id) FROM meetings_meeting"
                    " WHERE status = 'preparing' GROUP BY place_id"
                ).fetchall()
            )
        coordinators = [Coordinator(email, place, key) for email, place, key in rows]
        # Spread the users handed out over the places: number 1 of every place first.
        coordinators.sort(key=lambda c: (c.email.split(".")[0], c.place_id))
        return cls(coordinators, dict(people), dict(surnames), dict(keyworkers), meetings)

    def take(self) -> Coordinator:
        """A coordinator nobody has signed in as in this run (a TOTP code works once)."""
        if not self.coordinators:
            raise LoadError("ran out of bench coordinators: generate more (USERS_PER_ROLE)")
        return self.coordinators.pop(0)


def search_term(rng: random.Random, surnames: list[str]) -> str:
    """A surname part, as people type it: the first 3 to 5 letters, any case."""
    return rng.choice(surnames)[: rng.randint(3, 5)].lower()


# The read pages measured, as (name, path maker). The makers take (rng, register, place).
PageMaker = Callable[[random.Random, Register, int], str]
PAGES: dict[str, PageMaker] = {
    "list": lambda rng, reg, place: f"/places/{place}/people/",
    "search": lambda rng, reg, place: (
        f"/places/{place}/people/?q=" + quote(search_term(rng, reg.surnames[place]))
    ),
    "filtered": lambda rng, reg, place: f"/places/{place}/people/?status=closed&sort=dob",
    "person": lambda rng, reg, place: f"/places/{place}/people/{rng.choice(reg.people[place])}/",
    # Step 7: the commissioner's weekly page and the place-wide C(E)TR schedule.
    "inpatients": lambda rng, reg, place: f"/places/{place}/inpatients/",
    "cetr_schedule": lambda rng, reg, place: f"/places/{place}/cetrs/",
    # Step 6: the referral queue, and a keyworker's caseload (a coordinator sees any).
    "referrals": lambda rng, reg, place: f"/places/{place}/referrals/",
    "caseload": lambda rng, reg, place: (
        f"/places/{place}/caseloads/{rng.choice(reg.keyworkers[place])}/"
    ),
    # Issue 11: the agenda of the meeting being prepared, and its pack (page and Word).
    "agenda": lambda rng, reg, place: f"/places/{place}/meetings/{reg.meetings[place]}/",
    "pack": lambda rng, reg, place: f"/places/{place}/meetings/{reg.meetings[place]}/pack/",
    "pack_docx": lambda rng, reg, place: (
        f"/places/{place}/meetings/{reg.meetings[place]}/pack.docx"
    ),
}
# Timed after the others, a few rounds only: a Word pack at national scale can outlast
# gunicorn's 30-second worker timeout, and a worker killed and restarted would slow the
# next pages of a round (cold caches), skewing their figures.
SLOW_PAGES = ("pack_docx",)
SLOW_ROUNDS = 3
# The mixed read load: mostly people opening records and the register.
MIX = {"person": 40, "list": 30, "search": 20, "filtered": 10}


@dataclass
class Samples:
    ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, response: Response, expected: int = 200) -> None:
        with self.lock:
            if response.status == expected:
                self.ms[page].append(response.ms)
            else:
                self.errors[page] += 1

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for page in sorted(set(self.ms) | set(self.errors)):
            values = sorted(self.ms.get(page, []))
            out[page] = {
                "n": len(values),
                "errors": self.errors.get(page, 0),
                "median_ms": round(statistics.median(values), 2) if values else None,
                "p95_ms": round(percentile(values, 95), 2) if values else None,
            }
        return out  # type: ignore[return-value]


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class VirtualUser:
    browser: Browser
    place_id: int


def signed_in_users(
    port: int, register: Register, count: int
) -> tuple[list[VirtualUser], list[float]]:
    users, times = [], []
    for _ in range(count):
        coordinator = register.take()
        browser = Browser(port)
        times.append(sign_in(browser, coordinator))
        users.append(VirtualUser(browser, coordinator.place_id))
    return users, times


def measure_sign_in(port: int, register: Register, count: int) -> list[float]:
    """Sequential sign-ins by distinct coordinators: the sign-in page's own latency."""
    return signed_in_users(port, register, count)[1]


@dataclass
class Target:
    """One served register to time: its signed-in users (and an admin, for the peer)."""

    register: Register
    users: list[VirtualUser]
    admin: Browser | None = None
    samples: Samples = field(default_factory=Samples)


def measure_latency(
    targets: list[Target], *, rounds: int, warmup: int, max_seconds: float, seed: int = 1
) -> None:
    """One request at a time, round-robin over the pages (and the admin's search).

    Concurrency 1: the figures are service times, not queueing. The targets (the large
    and the small register) take turns round by round, so a slow spell of the machine
    falls on both alike and their ratio stays fair. Warm-up rounds are not kept (each
    gunicorn worker compiles templates and fills caches on first use).
    """
    rng = random.Random(seed)
    deadline = time.monotonic() + max_seconds
    for round_number in range(warmup + rounds):
        if time.monotonic() > deadline:
            break
        keep = round_number >= warmup
        for target in targets:
            user = target.users[round_number % len(target.users)]
            register = target.register
            term = search_term(rng, register.surnames[user.place_id])
            for page, make in PAGES.items():
                if page in SLOW_PAGES:
                    continue
                if page == "search":
                    path = f"/places/{user.place_id}/people/?q=" + quote(term)
                else:
                    path = make(rng, register, user.place_id)
                response = user.browser.get(path)
                if keep:
                    target.samples.add(page, response)
            if target.admin is not None:
                # The peer: the admin changelist's search for the same term over Person.
                response = target.admin.get("/admin/people/person/?q=" + quote(term))
                if keep:
                    target.samples.add("admin_search", response)


def measure_slow(targets: list[Target], *, rounds: int = SLOW_ROUNDS, seed: int = 3) -> None:
    """The SLOW_PAGES one request at a time, after the others (one warm-up each)."""
    rng = random.Random(seed)
    for round_number in range(1 + rounds):
        for target in targets:
            user = target.users[round_number % len(target.users)]
            for page in SLOW_PAGES:
                response = user.browser.get(PAGES[page](rng, target.register, user.place_id))
                if round_number:
                    target.samples.add(page, response)


def mixed_load(
    port: int, register: Register, users: list[VirtualUser], *, seconds: float, seed: int = 2
) -> tuple[Samples, float, int]:
    """Every user loops over the mix until the deadline; returns (samples, rps, requests)."""
    samples = Samples()
    names, weights = list(MIX), list(MIX.values())
    counter = {"n": 0}
    start = threading.Barrier(len(users) + 1)
    deadline = [0.0]

    def loop(index: int, user: VirtualUser) -> None:
        rng = random.Random(seed * 1000 + index)
        start.wait()
        while time.monotonic() < deadline[0]:
            with samples.lock:
                if counter["n"] >= MAX_REQUESTS:
                    return
                counter["n"] += 1
            page = rng.choices(names, weights)[0]
            samples.add(page, user.browser.get(PAGES[page](rng, register, user.place_id)))

    threads = [threading.Thread(target=loop, args=(i, u), daemon=True) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    deadline[0] = time.monotonic() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - began
    done = sum(len(v) for v in samples.ms.values())
    return samples, done / elapsed, done + sum(samples.errors.values())
