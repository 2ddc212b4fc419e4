"""The doors to ratings, reviews, significant events and signals (ADR 0009).

Each is seen by whoever may see the person it is about (people/scoping.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dsr.core.door import Door
from dsr.people.scoping import follows_person
from dsr.risk.models import (
    Rating,
    RatingContext,
    RatingFactor,
    Review,
    Signal,
    SignificantEvent,
)

ABOUT_PERSON = "person__place_id"  # ratings, reviews and events have no place of their own

RATINGS: Door[Rating] = Door(Rating, **follows_person(Rating), place=ABOUT_PERSON)
REVIEWS: Door[Review] = Door(Review, **follows_person(Review), place=ABOUT_PERSON)
EVENTS: Door[SignificantEvent] = Door(
    SignificantEvent,
    **follows_person(SignificantEvent),
    place=ABOUT_PERSON,
)
SIGNALS: Door[Signal] = Door(Signal, **follows_person(Signal, own_place="place_id"))


def with_factors(ratings: Sequence[Rating]) -> Sequence[Rating]:
    """Ratings the door gave (their read audited), each with `factor_list`: the checklist
    factors that informed it, in the checklist's order. One query for them all, as
    `prefetch_related("factors")` makes, with a fraction of its Python (make bench: the
    prefetch was a twentieth of the person page)."""
    by_id = {rating.pk: rating for rating in ratings}
    for rating in ratings:
        rating.factor_list = []  # type: ignore[attr-defined]
    if by_id:
        links = (
            RatingFactor.objects.filter(rating_id__in=list(by_id))
            .select_related("riskfactor")
            .order_by("riskfactor__position", "riskfactor_id")
        )
        for link in links:
            by_id[link.rating_id].factor_list.append(link.riskfactor)  # type: ignore[attr-defined]
    return ratings


def open_signal_explanations(place_id: int) -> list[tuple[int, str]]:
    """The place's open early warnings about open records, oldest first: (person id, why).
    For a tracker meeting's agenda (meetings/services.py), never shown as they are."""
    return list(
        Signal.objects.open()
        .filter(place_id=place_id, person__status="open")
        .order_by("fired_on", "id")
        .values_list("person_id", "explanation")
    )


def joined_between(place_id: int, after: Any, until: Any) -> list[tuple[int, Any]]:
    """Open records whose initial rating (the day they joined the register, whenever the
    record was typed in) falls after `after` up to `until`: (person id, that day). For a
    tracker meeting's agenda (meetings/services.py), never shown as they are."""
    return list(
        Rating.objects.filter(
            context=RatingContext.INITIAL,
            person__place_id=place_id,
            person__status="open",
            decided_on__gt=after,
            decided_on__lte=until,
        )
        .order_by()
        .values_list("person_id", "decided_on")
    )
