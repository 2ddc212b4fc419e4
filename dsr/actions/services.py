"""Opening actions and recording their progress.

Services validate everything they are given: the owner must be someone who can see the
person and update the action (never an auditor or a place admin, never another place's
user), an organisation must be the place's own, and the record must be open.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from dsr.accounts.models import User
from dsr.actions.models import Action, ActionSource, ActionStatus, ActionUpdate
from dsr.core import audit, validation
from dsr.core.access import ACCESS, Permission, Role, allows, require_acting_in
from dsr.core.models import AuditAction, StaleVersion
from dsr.people import services as people
from dsr.people.models import Person
from dsr.places.models import Organisation
from dsr.places.services import check_organisation

OWNER_CANNOT_SEE = "Choose an owner who works on this person's record"
# Roles that can both see a person and update an action: an action's possible owners.
OWNING_ROLES = [
    role for role in Role if {Permission.VIEW_PERSON, Permission.UPDATE_ACTION} <= ACCESS[role]
]


def possible_owners(person: Person) -> Any:
    """Users who may own an action about `person`: an active member of the person's place
    whose role sees people and updates actions — partners only if in the person's network."""
    in_network = people.network_users(person)
    return (
        User.objects.filter(
            is_active=True,
            memberships__place_id=person.place_id,
            memberships__is_active=True,
            memberships__role__in=OWNING_ROLES,
        )
        .filter(~Q(memberships__role=Role.PARTNER) | Q(pk__in=in_network))
        .distinct()
        .order_by("full_name", "id")
    )


def open_action(
    *,
    person: Person,
    description: str,
    due_on: date,
    source: ActionSource | str,
    by: audit.Context,
    owner_user: Any = None,
    owner_name: str = "",
    owner_organisation: Organisation | None = None,
    source_ref: str = "",
    rule_key: str = "",
) -> Action:
    """Open an action on an open record. Joins the caller's transaction."""
    description = validation.text(
        description,
        field="description",
        label="What needs to be done",
        max_length=300,
        required=False,
    )
    if not description:
        raise ValidationError({"description": "Enter what needs to be done"})
    owner_name = validation.text(
        owner_name,
        field="owner_name",
        label="Or a named professional",
        max_length=150,
        required=False,
    )
    validation.a_date(due_on, field="due_on", label="due date")
    validation.one_of(source, ActionSource, field="source", message="Select where it came from")
    source_ref = validation.text(
        source_ref, field="source_ref", label="Source", max_length=64, required=False
    )
    rule_key = validation.text(
        rule_key, field="rule_key", label="Rule", max_length=40, required=False
    )
    if owner_user is None and not owner_name and owner_organisation is None:
        raise ValidationError({"owner_user": "Choose who owns this action"})
    with transaction.atomic():
        current = people.lock_open(person, by)
        if owner_user is not None and not (
            isinstance(owner_user, User)  # an email or an id: not an owner chosen here
            and possible_owners(current).filter(pk=owner_user.pk).exists()
        ):
            raise ValidationError({"owner_user": OWNER_CANNOT_SEE})
        check_organisation(owner_organisation, current.place_id, field="owner_organisation")
        action = Action.objects.create(
            person=current,
            place_id=current.place_id,
            description=description,
            due_on=due_on,
            source=source,
            source_ref=source_ref,
            rule_key=rule_key,
            owner_user=owner_user,
            owner_name=owner_name,
            owner_organisation=owner_organisation,
            created_by=by.actor,
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=action,
            person_id=current.pk,
            place_id=current.place_id,
            changes={"description": [None, action.description], "due_on": [None, due_on]},
        )
    return action


def has_open_rule_action(*, person: Person, rule_key: str) -> bool:
    return Action.objects.open().filter(person=person, rule_key=rule_key).exists()


def open_rule_actions(*, person: Person, rule_key: str) -> list[Action]:
    """The person's open actions a rule opened, locked, oldest first: for the services that
    finish them (a held community C(E)TR completes the task a Red rating opened)."""
    return list(
        Action.objects.select_for_update()
        .open()
        .filter(person=person, rule_key=rule_key)
        .order_by("id")
    )


def update_action(
    *,
    action: Action,
    status: str,
    note: str,
    expected_version: int,
    by: audit.Context,
    on: date | None = None,
) -> Action:
    """Record progress: a dated update, and the action's new status. Returns the action."""
    validation.one_of(status, ActionStatus, field="status", message="Select the status")
    note = validation.text(note, field="note", label="Note", max_length=2000, required=False)
    on = validation.a_past_date_or_today(on, field="on", label="date")
    with transaction.atomic():
        current = Action.objects.select_for_update().get(pk=action.pk)
        require_acting_in(by, current.place_id)
        if current.version != expected_version:
            raise StaleVersion()
        if on < timezone.localdate(current.created_at):
            raise ValidationError({"on": "The date cannot be before the action was opened"})
        if by.role is not None and not allows(by, Permission.UPDATE_ACTION, current):
            raise ValidationError("Only the action's owner can update it")
        if status == current.status and not note:
            raise ValidationError({"note": "Enter a note or change the status"})
        previous = current.status
        current.save_if_current(expected_version, status=status)
        ActionUpdate.objects.create(action=current, on=on, status=status, note=note, by=by.actor)
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=current,
            person_id=current.person_id,
            place_id=current.place_id,
            changes=(
                {"status": [previous, status]} if status != previous else {"note": ["", "added"]}
            ),
        )
    return current


def transfer_history(person: Person) -> dict[str, Any]:
    """What a transfer carries of actions: those still open (they end with the record here
    and the receiving place decides what to take on)."""
    return {
        "open_actions": [
            {"what": a.description, "due": a.due_on.isoformat(), "owner": a.owner_label}
            for a in Action.objects.open()
            .filter(person=person)
            .select_related("owner_user", "owner_organisation")
        ]
    }
