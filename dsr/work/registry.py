""" "My work": what is each user's, and when. Other steps add providers, not rewrites.

A provider turns a viewer (a user in a place, with a role: core/door.py) into work items,
read through the doors so that what My work and the digests show is audited. It must
answer in a bounded number of queries whatever the data size. Register one with
`register(provider)` from the owning app's `AppConfig.ready()` (see dsr/work/providers.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import F, Func, IntegerField

from dsr.core import dates
from dsr.core.access import Permission, role_has


@dataclass(frozen=True)
class WorkItem:
    key: str  # stable across runs: reminders are never sent twice for the same key
    person_id: int | None  # None: not about a person on the register yet (a referral)
    person_name: str
    label: str
    due_on: date | None
    url: str
    person_born: date | None = None  # tells apart two people of the same name
    # From when the digest reminds of it: by default the day it falls due; a new referral
    # from the day it arrives.
    remind_from: date | None = None

    @property
    def overdue(self) -> bool:
        return self.due_on is not None and self.due_on < dates.today()

    @property
    def due_now(self) -> bool:
        """Due today or overdue, or past its `remind_from`: what reminders are about."""
        start = self.remind_from or self.due_on
        return start is not None and start <= dates.today()


@dataclass(frozen=True)
class Provider:
    """`query(viewer)` selects the work, soonest first; `item(row)` describes one row.

    The page lists up to LIMIT items; the navigation only counts them (all providers in
    one query, `work_count`: a count shows no one, so there is nothing to audit).
    """

    key: str
    title: str
    permission: Permission
    query: Callable[[Any], Any]  # viewer -> a door's QuerySet
    item: Callable[[Any], WorkItem]

    def items(self, viewer: Any) -> list[WorkItem]:
        return [self.item(row) for row in self.query(viewer)[:LIMIT]]


LIMIT = 200  # a page of work, not the whole register
PURPOSE = "my work"  # what the doors record My work and the digests as
PROVIDERS: list[Provider] = []


def register(provider: Provider) -> None:
    if any(p.key == provider.key for p in PROVIDERS):
        return
    PROVIDERS.append(provider)


def providers_for(viewer: Any) -> list[Provider]:
    if viewer.membership is None:
        return []
    return [p for p in PROVIDERS if role_has(viewer.membership.role, p.permission)]


def work_for(viewer: Any) -> list[tuple[Provider, list[WorkItem]]]:
    """Every provider's items; the page (or digest) is recorded as one read of everyone it
    showed, not one per list."""
    with viewer.one_event(PURPOSE):
        return [(p, p.items(viewer)) for p in providers_for(viewer)]


COUNT = Func(F("pk"), function="COUNT", output_field=IntegerField())


def work_count(viewer: Any) -> int:
    """Every provider's count in one query: the navigation shows it on every page, and the
    cost must not grow with the number of providers."""
    counts = [p.query(viewer).order_by().values(n=COUNT).query for p in providers_for(viewer)]
    if not counts:
        return 0
    parts, params = [], []
    for query in counts:
        sql, more = query.sql_with_params()
        parts.append(f"({sql})")
        params.extend(more)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + " + ".join(parts), params)
        return int(cursor.fetchone()[0] or 0)
