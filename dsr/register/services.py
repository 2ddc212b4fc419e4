"""Adding someone to the register: the person and their first rating, never one alone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import transaction

from dsr.core import audit
from dsr.people import services as people
from dsr.people.models import Person
from dsr.places.models import Place
from dsr.risk import services as risk
from dsr.risk.models import RatingContext


def add_to_register(
    *,
    place: Place,
    data: dict[str, Any],
    rating: str,
    rationale: str,
    by: audit.Context,
    factors: Iterable[Any] = (),
    rated_on: date | None = None,
) -> Person:
    """A person joins the register with their first rating, in one transaction."""
    with transaction.atomic():
        person = people.create_person(place=place, data=data, by=by)
        risk.rate(
            person=person,
            rating=rating,
            rationale=rationale,
            factors=factors,
            decided_on=rated_on,
            context=RatingContext.INITIAL,
            by=by,
        )
    return person
