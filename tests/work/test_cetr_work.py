"""The navigation's My work count stays one query with the stay and C(E)TR providers, and
counts exactly what My work lists."""

from __future__ import annotations

from datetime import date

import time_machine

from dsr.core.access import Role
from dsr.core.door import Viewer
from dsr.reviews import services as reviews
from dsr.work.registry import providers_for, work_count, work_for
from tests import factories
from tests.factories import SYSTEM, membership
from tests.helpers import count_queries
from tests.hospital.factories import admit, arrange, hold, request_cetr


def test_the_count_is_one_query_and_counts_what_my_work_lists(cast, place_a):
    with time_machine.travel("2026-03-02 10:00:00+00:00"):
        red = factories.make_person(place_a, rating="R")
        request_cetr(red)
        admit(factories.make_person(place_a))
        review = hold(arrange(request_cetr(factories.make_person(place_a))))
        reviews.add_recommendation(
            cetr=review,
            description="Overdue",
            due_on=date(2026, 3, 2),
            owner_user=cast[Role.KEYWORKER],
            by=SYSTEM,
        )
        factories.make_person(place_a, date_of_birth=date(2008, 6, 1))  # turns 18 in June
    with time_machine.travel("2026-03-10 10:00:00+00:00"):
        viewer = Viewer.acting_for(membership(cast[Role.COORDINATOR], place_a), label="test")
        keys = {p.key for p in providers_for(viewer)}
        assert {"inpatient_cetrs", "oversight_visits", "cetr_reports", "recommendations"} <= keys
        assert "transitions" in keys
        listed = sum(len(items) for _, items in work_for(viewer))
        assert count_queries(lambda: work_count(viewer)) == 1
        assert work_count(viewer) == listed
        assert listed >= 6
