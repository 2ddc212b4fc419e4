"""The doors to actions and their history (ADR 0009): seen by whoever may see the person
they are about."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from dsr.actions.models import Action, ActionUpdate
from dsr.core.door import Door
from dsr.people.scoping import visible

ACTIONS: Door[Action] = Door(
    Action,
    scope=lambda m: Action.objects.filter(visible(m, own_place="place_id")),
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
