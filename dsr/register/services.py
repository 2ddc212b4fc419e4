"""Adding someone to the register: the person and their first rating, never one alone."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from dsr.actions import services as actions
from dsr.actions.models import Action, ActionSource
from dsr.core import audit, dates
from dsr.people import services as people
from dsr.people import transitions
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


def open_transition_plan(*, person: Person, key: str, by: audit.Context) -> Action:
    """The transition plan action for someone approaching 18 or 25 (issue 10, part 6): due on
    the birthday, owned by whoever opens it. Once only: while one is open, it is the plan."""
    with transaction.atomic():
        current = people.lock_open(person, by)
        due = {
            t.key: t
            for t in transitions.transitions_for(
                current.place.settings, current.date_of_birth, dates.today()
            )
        }
        if key not in due:
            raise ValidationError(f"{current.full_name} is not approaching that birthday")
        if actions.has_open_rule_action(person=current, rule_key=key):
            raise ValidationError("A transition plan action is already open")
        transition = due[key]
        return actions.open_action(
            person=current,
            description=f"{transition.plan} ({transition.label.lower()})",
            due_on=transition.birthday,
            source=ActionSource.OTHER,
            rule_key=key,
            owner_user=by.actor,
            owner_name="" if by.actor else "DSR coordinator",
            by=by,
        )
