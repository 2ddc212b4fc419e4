"""The doors to C(E)TRs and their recommendations (ADR 0009): each is seen by whoever may
see the person it is about (people/scoping.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery

from dsr.actions.models import ActionStatus
from dsr.core import dates
from dsr.core.door import Door
from dsr.people.scoping import follows_person, visible
from dsr.reviews.models import LIVE, Cetr, Recommendation

CETRS: Door[Cetr] = Door(
    Cetr,
    **follows_person(Cetr, own_place="place_id"),
    related=["person", "person__place__settings", "admission", "task"],
)
RECOMMENDATIONS: Door[Recommendation] = Door(
    Recommendation,
    scope=lambda m: Recommendation.objects.filter(
        visible(m, person="cetr__person", own_place="cetr__place_id")
    ),
    person="cetr__person_id",
    place="cetr__place_id",
)


def with_progress(cetrs: QuerySet[Cetr]) -> QuerySet[Cetr]:
    """Each review with how many of its recommendations are done, open and overdue
    (issue 10, part 4): one query, whatever the number of recommendations."""
    today = dates.today()
    open_ = Q(recommendations__action__status=ActionStatus.OPEN)
    return cetrs.annotate(
        recommendations_done=Count(
            "recommendations", filter=Q(recommendations__action__status=ActionStatus.DONE)
        ),
        recommendations_open=Count("recommendations", filter=open_),
        recommendations_overdue=Count(
            "recommendations", filter=open_ & Q(recommendations__action__due_on__lt=today)
        ),
        recommendations_total=Count("recommendations"),
    )


def live_review(field: str, value: str = "pk", outer: str = "pk") -> Any:
    """A subquery: `value` of the soonest review still to be held that answers to the outer
    row (`task_id` for a Red rating's task, `admission_id` for a stay). It shows no one."""
    return Subquery(
        Cetr.objects.filter(**{field: OuterRef(outer)}, status__in=LIVE)
        .order_by(F("scheduled_for").asc(nulls_last=True), "id")
        .values(value)[:1]
    )
