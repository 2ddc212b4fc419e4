"""The work items of the risk step: reviews, actions, signals, C(E)TRs due."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse

from dsr.actions.models import Action
from dsr.core import dates
from dsr.core.access import Permission, Role
from dsr.people.choices import Status
from dsr.people.models import Person
from dsr.risk.models import Signal
from dsr.work.registry import Provider, WorkItem, register

LIMIT = 200  # a page of work, not the whole register


def _people(membership: Any) -> Any:
    # Work comes from the place's open register only (partners: their network, later).
    people = Person.objects.filter(place_id=membership.place_id, status=Status.OPEN)
    return people.none() if membership.role == Role.PARTNER else people


def reviews_due(membership: Any) -> list[WorkItem]:
    policy = membership.place.settings
    horizon = dates.today() + timedelta(days=policy.review_due_soon_days)
    people = (
        _people(membership)
        .filter(review_due__lte=horizon)
        .order_by("review_due", "id")
        .only("id", "given_name", "family_name", "review_due", "current_rating")[:LIMIT]
    )
    return [
        WorkItem(
            key=f"review:{p.pk}:{p.review_due}",
            person_id=p.pk,
            person_name=p.full_name,
            label="Review due",
            due_on=p.review_due,
            url=reverse("risk:review", args=[p.pk]),
        )
        for p in people
    ]


def _action_items(actions: Any, label: str | None = None) -> list[WorkItem]:
    return [
        WorkItem(
            key=f"action:{a.pk}",
            person_id=a.person_id,
            person_name=a.person.full_name,
            label=label or a.description,
            due_on=a.due_on,
            url=reverse("actions:update", args=[a.pk]),
        )
        for a in actions
    ]


def my_actions(membership: Any) -> list[WorkItem]:
    actions = (
        Action.objects.open()
        .filter(place_id=membership.place_id, owner_user_id=membership.user_id)
        .exclude(rule_key="community_cetr")
        .select_related("person")
        .order_by("due_on", "id")[:LIMIT]
    )
    return _action_items(actions)


def cetrs_due(membership: Any) -> list[WorkItem]:
    """Red means a community C(E)TR: a task until one is recorded (DOMAIN.md)."""
    actions = (
        Action.objects.open()
        .filter(place_id=membership.place_id, rule_key="community_cetr")
        .select_related("person")
        .order_by("due_on", "id")[:LIMIT]
    )
    return _action_items(actions, label="Community C(E)TR due")


def signals_to_look_at(membership: Any) -> list[WorkItem]:
    signals = (
        Signal.objects.filter(place_id=membership.place_id, cleared_by__isnull=True)
        .filter(person__status=Status.OPEN)
        .select_related("person")
        .order_by("-fired_on", "-id")[:LIMIT]
    )
    return [
        WorkItem(
            key=f"signal:{s.pk}",
            person_id=s.person_id,
            person_name=s.person.full_name,
            label=f"Review now: {s.explanation}",
            due_on=s.fired_on,
            url=reverse("people:detail", args=[s.person_id]),
        )
        for s in signals
    ]


def register_defaults() -> None:
    register(Provider("signals", "Signals to look at", Permission.RATE_PERSON, signals_to_look_at))
    register(Provider("reviews", "Reviews due and overdue", Permission.RECORD_REVIEW, reviews_due))
    register(Provider("cetrs", "C(E)TRs due", Permission.RATE_PERSON, cetrs_due))
    register(Provider("actions", "Your actions", Permission.VIEW_MY_WORK, my_actions))
