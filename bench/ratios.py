"""Overhead: a page's server time ÷ the raw SQL time of that page's own queries.

`python -m bench.ratios --database-url URL --email E --key HEX` runs in its own process
(Django reads DATABASE_URL at start-up) under the bench settings, and prints one JSON line.

For each page: sign in through the real two-step form with Django's test client, time
the request in-process (the server's work: middleware, view, queries, template; no HTTP
or gunicorn), capture the SQL it runs with CaptureQueriesContext inside a transaction that
is rolled back, and time those statements executed directly with psycopg, again inside a
transaction rolled back (a page's writes, its audit event and session, are replayed too).
The ratio is how much the page costs beyond its SQL: Python, the ORM and the templates.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from typing import Any

import psycopg

from bench import common

# A page taking seconds would hold the run for an hour at `repeat` rounds: after
# PAGE_BUDGET_S it stops at MIN_SAMPLES or more.
SLOW_S = 1.0
PAGE_BUDGET_S = 60.0
MIN_SAMPLES = 3


def _median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 3)


def page_urls(place_id: int, rng: random.Random) -> dict[str, list[str]]:
    from dsr.meetings.models import Meeting
    from dsr.people.models import Person
    from dsr.places.models import Membership

    people = list(Person.objects.filter(place_id=place_id).values_list("id", "family_name"))
    keyworkers = list(
        Membership.objects.filter(place_id=place_id, role="keyworker").values_list(
            "user_id", flat=True
        )
    )
    picks = rng.sample(people, 5)
    base = f"/places/{place_id}/people/"
    meeting = Meeting.objects.filter(place_id=place_id, status="preparing").order_by("-id").first()
    assert meeting is not None, "no meeting being prepared: regenerate the bench data"
    meetings = f"/places/{place_id}/meetings/{meeting.pk}/"
    return {
        "list": [base],
        "search": [f"{base}?q={name[: rng.randint(3, 5)].lower()}" for _, name in picks],
        "filtered": [f"{base}?status=closed&sort=dob"],
        "person": [f"{base}{pk}/" for pk, _ in picks],
        "inpatients": [f"/places/{place_id}/inpatients/"],
        "cetr_schedule": [f"/places/{place_id}/cetrs/"],
        "referrals": [f"/places/{place_id}/referrals/"],
        "caseload": [f"/places/{place_id}/caseloads/{keyworker}/" for keyworker in keyworkers],
        "agenda": [meetings],
        "pack": [f"{meetings}pack/"],
        "pack_docx": [f"{meetings}pack.docx"],
    }


def sign_in(client: Any, email: str, key: str) -> None:
    from bench.load import current_code

    first = client.post("/sign-in/", {"email": email, "password": common.PASSWORD})
    second = client.post("/sign-in/code/", {"code": current_code(key)})
    if first.status_code != 302 or second.status_code != 302:
        raise SystemExit(f"test-client sign-in failed: {first.status_code} {second.status_code}")


def capture(client: Any, url: str) -> list[str]:
    """The SQL a request runs, as sent (literal values), its writes rolled back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        client.get(url)
        transaction.set_rollback(True)
    return [q["sql"] for q in captured.captured_queries]


def replay(raw: psycopg.Connection[Any], statements: list[str]) -> float:
    """Seconds to run the statements directly, fetching every row; then roll back."""
    with raw.cursor() as cursor:
        started = time.perf_counter()
        for statement in statements:
            cursor.execute(statement)  # type: ignore[call-overload]
            if cursor.description is not None:
                cursor.fetchall()
        took = time.perf_counter() - started
    raw.rollback()
    return took


class Split:
    """Where a request's time goes: SQL (as Django times it: driver and server), Python in
    the templates (less any SQL run from them: querysets evaluate lazily in templates),
    and the rest (middleware, view, ORM). Uses Django's execute_wrapper hook and wraps the
    template backend's render: a few microseconds each, on the timed requests only."""

    def __init__(self) -> None:
        self.sql = self.render = self.sql_in_render = 0.0
        self.rendering = False

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.sql += took
            if self.rendering:
                self.sql_in_render += took

    def wrap_render(self, render: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self.rendering = True
            started = time.perf_counter()
            try:
                return render(*args, **kwargs)
            finally:
                self.render += time.perf_counter() - started
                self.rendering = False

        return timed

    def take(self, total: float) -> dict[str, float]:
        template = self.render - self.sql_in_render
        out = {"sql": self.sql, "template": template, "other": total - self.sql - template}
        self.sql = self.render = self.sql_in_render = 0.0
        return out


def measure(database_url: str, email: str, key: str, repeat: int) -> dict[str, Any]:
    os.environ.update(common.app_environment(database_url))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.template.backends import jinja2 as jinja_backend
    from django.test import Client

    from dsr.places.models import Membership

    split = Split()
    jinja_backend.Template.render = split.wrap_render(jinja_backend.Template.render)  # type: ignore[method-assign]
    client = Client(HTTP_HOST="127.0.0.1")
    sign_in(client, email, key)
    place_id = Membership.objects.get(user__email=email).place_id
    results: dict[str, Any] = {}
    # The replay's session as the app's own: the same planner settings (random_page_cost,
    # timeouts: settings.py). A connection at PostgreSQL's defaults chose slower plans at
    # national scale (the agenda's statements took 54 ms replayed, 20 ms in the page), so
    # the ratio came out below 1 and flattered every page whose plans differ.
    raw = psycopg.connect(database_url, options=settings.DATABASES["default"]["OPTIONS"]["options"])
    try:
        for page, urls in page_urls(place_id, random.Random(7)).items():
            for url in urls * 3:  # warm up: templates compiled, caches filled
                started = time.perf_counter()
                client.get(url)
                slow = time.perf_counter() - started > SLOW_S
                if slow:  # once is enough for a page that takes seconds
                    break
            budget = time.perf_counter() + PAGE_BUDGET_S
            server: list[float] = []
            sql: list[float] = []
            counts: list[int] = []
            parts: list[dict[str, float]] = []
            example: list[str] = []
            for _ in range(repeat):
                for url in urls:
                    # In turn, so a slow spell of the machine falls on both alike:
                    # capture the page's SQL (rolled back, so the database is as before),
                    # replay it directly (rolled back), then time the page for real.
                    statements = capture(client, url)
                    sql.append(replay(raw, statements))
                    split.take(0)
                    with connection.execute_wrapper(split):
                        started = time.perf_counter()
                        response = client.get(url)
                        server.append(time.perf_counter() - started)
                    parts.append(split.take(server[-1]))
                    if response.status_code != 200:
                        raise SystemExit(f"{url}: {response.status_code}")
                    counts.append(len(statements))
                    example = example or statements
                if len(server) >= MIN_SAMPLES and time.perf_counter() > budget:
                    break  # a page that takes seconds (a large Word pack): enough samples
            results[page] = {
                "server_ms": _median_ms(server),
                "sql_ms": _median_ms(sql),
                "queries": round(statistics.mean(counts), 1),
                # Medians of each part: they need not add up to server_ms exactly.
                "split_ms": {k: _median_ms([p[k] for p in parts]) for k in parts[0]},
                "overhead": round(statistics.median(server) / statistics.median(sql), 2),
                "example_sql": example,
            }
    finally:
        raw.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--key", required=True, help="the coordinator's TOTP key (hex)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    results = measure(args.database_url, args.email, args.key, args.repeat)
    sys.stdout.write(json.dumps(results) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
