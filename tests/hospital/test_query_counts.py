"""The person page costs the same whatever stays, visits, C(E)TRs and recommendations it
shows (DESIGN.md principle 8), and still records one read."""

from __future__ import annotations

from datetime import date

import time_machine

from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.hospital import services as hospital
from dsr.reviews import services as reviews
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at, count_queries
from tests.hospital.factories import admit, arrange, discharge, hold, request_cetr


def _queries(client, url) -> int:
    client.get(url)
    return count_queries(lambda: client.get(url))


def test_person_page_queries_do_not_grow_with_stays_and_reviews(cast, place_a):
    from tests.conftest import signed_in_client

    with time_machine.travel("2026-01-05 10:00:00+00:00"):
        # 17 and a half: approaching 18, so the transition panel reads too
        person = factories.make_person(place_a, rating="R", date_of_birth=date(2008, 6, 1))
        hold(arrange(request_cetr(person)))
        stay = admit(person, admitted_on=date(2026, 1, 5))
    url = at(person, "register:person")
    with time_machine.travel("2026-01-06 10:00:00+00:00"):
        first = _queries(signed_in_client(cast[Role.COORDINATOR]), url)
    with time_machine.travel("2026-01-20 10:00:00+00:00"):
        for day in (6, 8, 10):
            hospital.record_visit(
                admission=stay,
                visited_on=date(2026, 1, day),
                visited_by="Cass",
                findings="Seen",
                by=SYSTEM,
            )
        for _ in range(3):
            review = hold(arrange(request_cetr(person, kind="laep")))
            for n in range(3):
                reviews.add_recommendation(
                    cetr=review,
                    description=f"Recommendation {n}",
                    due_on=date(2026, 1, 21),
                    owner_user=cast[Role.KEYWORKER],
                    by=SYSTEM,
                )
        discharge(stay, on=date(2026, 1, 19))
        stay = admit(person, admitted_on=date(2026, 1, 20))
    with time_machine.travel("2026-01-21 10:00:00+00:00"):
        before = AuditEvent.objects.filter(person_id=person.pk, action="viewed").count()
        assert _queries(signed_in_client(cast[Role.COORDINATOR]), url) == first <= 28
        reads = AuditEvent.objects.filter(person_id=person.pk, action="viewed")
        assert reads.count() == before + 2  # one per request (warm-up and counted)
