"""The doors to ratings, reviews, significant events and signals (ADR 0009).

Each is seen by whoever may see the person it is about (people/scoping.py).
"""

from __future__ import annotations

from typing import Any

from dsr.core.door import Door
from dsr.people.scoping import people_for
from dsr.risk.models import Rating, Review, Signal, SignificantEvent


def _about_visible_people(model: Any) -> Any:
    def scope(membership: Any) -> Any:
        return model.objects.filter(person__in=people_for(membership))

    return scope


RATINGS: Door[Rating] = Door(Rating, scope=_about_visible_people(Rating), place="person__place_id")
REVIEWS: Door[Review] = Door(Review, scope=_about_visible_people(Review), place="person__place_id")
EVENTS: Door[SignificantEvent] = Door(
    SignificantEvent, scope=_about_visible_people(SignificantEvent), place="person__place_id"
)
SIGNALS: Door[Signal] = Door(Signal, scope=_about_visible_people(Signal))
