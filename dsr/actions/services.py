"""Opening actions and recording their progress."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from dsr.actions.models import Action, ActionSource, ActionStatus, ActionUpdate
from dsr.core import audit, dates
from dsr.core.models import AuditAction

if TYPE_CHECKING:
    from dsr.people.models import Person


def open_action(
    *,
    person: Person,
    description: str,
    due_on: date,
    source: ActionSource | str,
    by: audit.Context,
    owner_user: Any = None,
    owner_name: str = "",
    owner_organisation: Any = None,
    source_ref: str = "",
    rule_key: str = "",
) -> Action:
    """Open an action. Call inside the operation's transaction (it joins it)."""
    if not description.strip():
        raise ValidationError({"description": "Enter what needs to be done"})
    if owner_user is None and not owner_name.strip() and owner_organisation is None:
        raise ValidationError({"owner_user": "Choose who owns this action"})
    with transaction.atomic():
        action = Action.objects.create(
            person=person,
            place_id=person.place_id,
            description=description.strip(),
            due_on=due_on,
            source=source,
            source_ref=source_ref,
            rule_key=rule_key,
            owner_user=owner_user,
            owner_name=owner_name.strip(),
            owner_organisation=owner_organisation,
            created_by=by.actor,
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=action,
            person_id=person.pk,
            place_id=person.place_id,
            changes={"description": [None, action.description], "due_on": [None, due_on]},
        )
    return action


def has_open_rule_action(*, person: Person, rule_key: str) -> bool:
    return Action.objects.filter(
        person=person, rule_key=rule_key, status=ActionStatus.OPEN
    ).exists()


def update_action(
    *,
    action: Action,
    status: str,
    note: str,
    expected_version: int,
    by: audit.Context,
    on: date | None = None,
) -> Action:
    """Record progress: a dated update, and the action's new status."""
    on = on or dates.today()
    if on > dates.today():
        raise ValidationError({"on": "The date must be today or in the past"})
    if status == action.status and not note.strip():
        raise ValidationError({"note": "Enter a note or change the status"})
    with transaction.atomic():
        previous = action.status
        action.save_if_current(expected_version, status=status)
        ActionUpdate.objects.create(
            action=action, on=on, status=status, note=note.strip(), by=by.actor
        )
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=action,
            person_id=action.person_id,
            place_id=action.place_id,
            changes=(
                {"status": [previous, status]} if status != previous else {"note": ["", "added"]}
            ),
        )
    return action
