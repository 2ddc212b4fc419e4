"""The door to actions (ADR 0009): seen by whoever may see the person they are about."""

from __future__ import annotations

from typing import Any

from dsr.actions.models import Action, ActionUpdate
from dsr.core.door import Door
from dsr.people.scoping import people_for


def _actions_for(membership: Any) -> Any:
    return Action.objects.filter(place_id=membership.place_id, person__in=people_for(membership))


def _updates_for(membership: Any) -> Any:
    return ActionUpdate.objects.filter(action__in=_actions_for(membership))


ACTIONS: Door[Action] = Door(
    Action, scope=_actions_for, related=["person", "owner_user", "owner_organisation"]
)
ACTION_UPDATES: Door[ActionUpdate] = Door(
    ActionUpdate,
    scope=_updates_for,
    person="action__person_id",
    place="action__place_id",
)
