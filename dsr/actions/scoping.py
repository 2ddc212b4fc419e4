"""The doors to actions and their history (ADR 0009): seen by whoever may see the person
they are about."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from dsr.actions.models import Action, ActionUpdate
from dsr.core.door import Door
from dsr.people.scoping import follows_person, visible

ACTIONS: Door[Action] = Door(
    Action,
    **follows_person(Action, own_place="place_id"),
    related=["person", "owner_user", "owner_organisation"],
)
ACTION_UPDATES: Door[ActionUpdate] = Door(
    ActionUpdate,
    scope=lambda m: ActionUpdate.objects.filter(
        visible(m, person="action__person", own_place="action__place_id")
    ),
    person="action__person_id",
    place="action__place_id",
)


def has_open_rule_action(*rule_keys: str, person: str = "pk") -> Exists:
    """A filter for people with an open action a rule opened (a subquery: it shows no one)."""
    return Exists(Action.objects.open().filter(person_id=OuterRef(person), rule_key__in=rule_keys))


# Facts for a tracker meeting's agenda (meetings/services.py), never shown as they are.


def open_tasks_due(place_id: int, rule_key: str, due_by: Any) -> list[tuple[Any, ...]]:
    """Open actions a rule opened (`rule_key`) due by `due_by`: (person id, due on)."""
    return list(
        Action.objects.open()
        .filter(place_id=place_id, rule_key=rule_key, due_on__lte=due_by, person__status="open")
        .order_by()
        .values_list("person_id", "due_on")
    )


def overdue_counts(place_id: int, before: Any) -> list[dict[str, Any]]:
    """How many open actions each open record has due before `before`, apart from C(E)TR
    recommendations (counted on their own): person_id, actions, recommendations."""
    return list(
        Action.objects.open()
        .filter(place_id=place_id, due_on__lt=before, person__status="open")
        .values("person_id")
        .annotate(
            actions=Count("pk", filter=Q(recommendation__isnull=True)),
            recommendations=Count("pk", filter=Q(recommendation__isnull=False)),
        )
        .order_by()
    )
