"""The work items of the risk step: signals, reviews, C(E)TRs due, the user's own actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse

from dsr.actions.models import Action
from dsr.core import dates
from dsr.core.access import Permission
from dsr.people.choices import Status
from dsr.people.models import Person
from dsr.people.scoping import people_for
from dsr.risk.models import Signal
from dsr.work.registry import Provider, WorkItem, register


def _people(membership: Any) -> Any:
    """Work comes from the open register this membership may see (people/scoping.py)."""
    return people_for(membership).filter(status=Status.OPEN)


def reviews_due(membership: Any) -> Any:
    horizon = dates.today() + timedelta(days=membership.place.settings.review_due_soon_days)
    return (
        _people(membership)
        .filter(review_due__lte=horizon)
        .order_by("review_due", "id")
        .only("id", "given_name", "family_name", "review_due")
    )


def review_item(person: Person) -> WorkItem:
    return WorkItem(
        key=f"review:{person.pk}:{person.review_due}",
        person_id=person.pk,
        person_name=person.full_name,
        label="Review due",
        due_on=person.review_due,
        url=reverse("risk:review", args=[person.pk]),
    )


def _open_actions(membership: Any) -> Any:
    return (
        Action.objects.open()
        .filter(place_id=membership.place_id, person__in=_people(membership))
        .select_related("person")
        .order_by("due_on", "id")
    )


def my_actions(membership: Any) -> Any:
    return (
        _open_actions(membership)
        .filter(owner_user_id=membership.user_id)
        .exclude(rule_key="community_cetr")
    )


def action_item(action: Action) -> WorkItem:
    return WorkItem(
        key=f"action:{action.pk}",
        person_id=action.person_id,
        person_name=action.person.full_name,
        label=action.description,
        due_on=action.due_on,
        url=reverse("actions:update", args=[action.pk]),
    )


def cetrs_due(membership: Any) -> Any:
    """Red means a community C(E)TR: a task until one is recorded (DOMAIN.md)."""
    return _open_actions(membership).filter(rule_key="community_cetr")


def signals_to_look_at(membership: Any) -> Any:
    return (
        Signal.objects.filter(place_id=membership.place_id, cleared_by__isnull=True)
        .filter(person__in=_people(membership))
        .select_related("person")
        .order_by("-fired_on", "-id")
    )


def signal_item(signal: Signal) -> WorkItem:
    return WorkItem(
        key=f"signal:{signal.pk}",
        person_id=signal.person_id,
        person_name=signal.person.full_name,
        label=f"Review now: {signal.explanation}",
        due_on=signal.fired_on,
        url=reverse("people:detail", args=[signal.person_id]),
    )


def register_defaults() -> None:
    for provider in [
        Provider(
            "signals", "Signals to look at", Permission.RATE_PERSON, signals_to_look_at, signal_item
        ),
        Provider(
            "reviews", "Reviews due and overdue", Permission.RECORD_REVIEW, reviews_due, review_item
        ),
        Provider("cetrs", "C(E)TRs due", Permission.RATE_PERSON, cetrs_due, action_item),
        Provider("actions", "Your actions", Permission.VIEW_MY_WORK, my_actions, action_item),
    ]:
        register(provider)
