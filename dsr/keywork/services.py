"""Allocating keyworkers and logging their contacts (DOMAIN.md "Keyworker").

Eligibility is the place's policy (risk.rules.keyworker_eligible: aged under the setting's
age and rated one of its ratings). A keyworker is not a caseholder: allocation is refused
while no other professional is in the care network, and the last such professional cannot
leave it while a keyworker is allocated (the guard registered with people.services).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from dsr.accounts.models import User
from dsr.actions import services as actions
from dsr.actions.models import ActionSource, ActionStatus
from dsr.core import audit, validation
from dsr.core.access import Role, require_acting_in
from dsr.core.models import AuditAction, StaleVersion
from dsr.keywork.models import Allocation, Contact, ContactKind
from dsr.people import services as people
from dsr.people.choices import MemberKind
from dsr.people.models import NetworkMember, Person
from dsr.risk import rules
from dsr.risk.models import RiskRating

NOT_A_CASEHOLDER = (
    "A keyworker is not a caseholder: record at least one other professional in the care "
    "network before allocating one"
)
# The prompt a rating opens for an eligible person (risk.rules.eligible_for_keyworker).
KEYWORKER_PROMPT = "keyworker_referral"


def eligibility(person: Person) -> str:
    """Why the person is not eligible for a keyworker now, or "" if they are."""
    policy = person.place.settings
    if not person.current_rating:
        return "They have no rating yet"
    if rules.keyworker_eligible(policy, person.current_rating, person.age):
        return ""
    ratings = ", ".join(RiskRating(r).label for r in policy.keyworker_ratings)
    return (
        f"Keyworkers are for people under {policy.keyworker_max_age} rated {ratings}; "
        f"they are {person.age} and rated {RiskRating(person.current_rating).label}"
    )


def keyworkers_of(place_id: int) -> Any:
    """The users who may be allocated as keyworkers here: the place's active keyworkers."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__place_id=place_id,
            memberships__role=Role.KEYWORKER,
            memberships__is_active=True,
        )
        .distinct()
        .order_by("full_name", "id")
    )


def current_allocation(person: Person) -> Allocation | None:
    return Allocation.objects.current().filter(person=person).select_related("keyworker").first()


def _end(allocation: Allocation, *, ended_on: date, reason: str, by: audit.Context) -> None:
    allocation.save_if_current(allocation.version, ended_on=ended_on, end_reason=reason)
    audit.record(
        context=by,
        action=AuditAction.CHANGED,
        obj=allocation,
        person_id=allocation.person_id,
        place_id=allocation.place_id,
        changes={"ended_on": [None, ended_on], "end_reason": ["", reason]},
    )


def allocate_keyworker(
    *, person: Person, keyworker: User, by: audit.Context, started_on: date | None = None
) -> Allocation:
    """Allocate (or reallocate) the person's keyworker; the previous allocation ends the day
    the new one starts. Completes the rating's "refer for a keyworker" prompt."""
    started_on = validation.a_past_date_or_today(started_on, field="started_on", label="start date")
    if not isinstance(keyworker, User):
        raise ValidationError({"keyworker": "Choose a keyworker"})
    try:
        with transaction.atomic():
            current = people.lock_open(person, by)
            why_not = eligibility(current)
            if why_not:
                raise ValidationError(f"Not eligible for a keyworker. {why_not}")
            if not keyworkers_of(current.place_id).filter(pk=keyworker.pk).exists():
                raise ValidationError({"keyworker": "Choose a keyworker of this place"})
            if not people.current_professionals(current).exists():
                raise ValidationError(NOT_A_CASEHOLDER)
            if started_on < current.date_of_birth:
                raise ValidationError(
                    {"started_on": "The start date cannot be before the person's date of birth"}
                )
            previous = (
                Allocation.objects.current().select_for_update().filter(person=current).first()
            )
            if previous is not None:
                if previous.keyworker_id == keyworker.pk:
                    raise ValidationError({"keyworker": f"{keyworker} is already their keyworker"})
                if started_on < previous.started_on:
                    raise ValidationError(
                        {
                            "started_on": "The start date cannot be before the current "
                            f"keyworker's ({previous.started_on:%-d %B %Y})"
                        }
                    )
                _end(previous, ended_on=started_on, reason=f"Reallocated to {keyworker}", by=by)
            allocation = Allocation.objects.create(
                person=current,
                place_id=current.place_id,
                keyworker=keyworker,
                started_on=started_on,
                allocated_by=by.actor,
                allocated_by_label=by.actor_label or getattr(by.actor, "email", ""),
            )
            audit.record(
                context=by,
                action=AuditAction.CREATED,
                obj=allocation,
                person_id=current.pk,
                place_id=current.place_id,
                changes={
                    "keyworker": [
                        previous.keyworker.email if previous else None,
                        keyworker.email,
                    ],
                    "started_on": [None, started_on],
                },
            )
            _complete_prompt(current, keyworker=keyworker, by=by)
    except IntegrityError as error:  # a concurrent allocation got there first
        raise ValidationError(
            "Someone else allocated a keyworker just now. Check and try again"
        ) from error
    return allocation


def _complete_prompt(person: Person, *, keyworker: User, by: audit.Context) -> None:
    """Allocating is what the rating's prompt asked for: it is done, today."""
    for action in actions.open_rule_actions(person=person, rule_key=KEYWORKER_PROMPT):
        actions.update_action(
            action=action,
            status=ActionStatus.DONE,
            note=f"Keyworker allocated: {keyworker}",
            expected_version=action.version,
            by=by,
        )


def end_allocation(
    *,
    allocation: Allocation,
    ended_on: date,
    reason: str,
    expected_version: int,
    by: audit.Context,
) -> Allocation:
    """The keyworker stops working with the family; the allocation is kept as history."""
    reason = validation.text(reason, field="end_reason", label="Why", max_length=200, required=True)
    ended_on = validation.a_past_date(ended_on, field="ended_on", label="end date")
    with transaction.atomic():
        # The person's row first, then the allocation's, as allocate_keyworker takes them:
        # the other order deadlocked a reallocation ending the same allocation (a review).
        person_id, place_id = Allocation.objects.values_list("person_id", "place_id").get(
            pk=allocation.pk
        )
        require_acting_in(by, place_id)
        people.lock(person_id)
        current = Allocation.objects.select_for_update().get(pk=allocation.pk)
        if current.version != expected_version:
            raise StaleVersion()
        if current.ended_on is not None:
            raise ValidationError("This allocation has already ended")
        if ended_on < current.started_on:
            raise ValidationError(
                {"ended_on": f"The end date cannot be before {current.started_on:%-d %B %Y}"}
            )
        _end(current, ended_on=ended_on, reason=reason, by=by)
    return current


def guard_network_ending(person: Person, member: NetworkMember) -> None:
    """Registered with people.services: while a keyworker is allocated, the last other
    professional may not leave the care network (a keyworker is not a caseholder)."""
    if member.kind != MemberKind.PROFESSIONAL:
        return
    if not Allocation.objects.current().filter(person=person).exists():
        return
    others = people.current_professionals(person).exclude(pk=member.pk)
    if not others.exists():
        raise ValidationError(
            f"{member.name} is the only other professional in the care network, and a "
            "keyworker is not a caseholder. Add another professional first, or end the "
            "keyworker's allocation"
        )


# --- Contacts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUp:
    """A plan agreed with the family, to become a shared action: owned by a user (the
    keyworker, a partner) or by a professional of the care network."""

    description: str
    due_on: date
    owner_user: User | None = None
    owner_member: NetworkMember | None = None


def _open_follow_up(person: Person, contact: Contact, item: FollowUp, by: audit.Context) -> Any:
    owner: dict[str, Any] = {"owner_user": item.owner_user}
    member = item.owner_member
    if member is not None:
        fresh = people.current_professionals(person).filter(pk=member.pk).first()
        if fresh is None:
            raise ValidationError(
                {"follow_ups": "Choose an owner from the professionals now in the care network"}
            )
        if fresh.user_id:
            owner = {"owner_user": fresh.user}
        else:
            owner = {
                "owner_user": None,
                "owner_name": fresh.name + (f" ({fresh.job_title})" if fresh.job_title else ""),
                "owner_organisation": fresh.organisation,
            }
    return actions.open_action(
        person=person,
        description=item.description,
        due_on=item.due_on,
        source=ActionSource.KEYWORK,
        source_ref=f"contact:{contact.pk}",
        by=by,
        **owner,
    )


def log_contact(
    *,
    person: Person,
    contacted_on: date,
    kind: str,
    with_whom: str,
    summary: str,
    by: audit.Context,
    follow_ups: Sequence[FollowUp] = (),
) -> Contact:
    """A contact with the family, and the follow-ups agreed, in one transaction."""
    validation.one_of(kind, ContactKind, field="kind", message="Select how you were in contact")
    with_whom = validation.text(
        with_whom, field="with_whom", label="With whom", max_length=200, required=True
    )
    summary = validation.text(
        summary, field="summary", label="What was discussed", max_length=4000, required=True
    )
    contacted_on = validation.a_past_date(contacted_on, field="contacted_on", label="date")
    follow_ups = validation.each_a(
        follow_ups, FollowUp, field="follow_ups", message="Enter each follow-up as a plan"
    )
    with transaction.atomic():
        current = people.lock_open(person, by)
        if contacted_on < current.date_of_birth:
            raise ValidationError(
                {"contacted_on": "The date cannot be before the person's date of birth"}
            )
        contact = Contact.objects.create(
            person=current,
            place_id=current.place_id,
            contacted_on=contacted_on,
            kind=kind,
            with_whom=with_whom,
            summary=summary,
            recorded_by=by.actor,
            recorded_by_label=by.actor_label or getattr(by.actor, "email", ""),
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=contact,
            person_id=current.pk,
            place_id=current.place_id,
            changes={
                "kind": [None, kind],
                "contacted_on": [None, contacted_on],
                "follow_ups": [None, len(follow_ups)],
            },
        )
        for item in follow_ups:
            _open_follow_up(current, contact, item, by)
    return contact


def transfer_history(person: Person) -> dict[str, Any]:
    """What a transfer carries of keywork: each contact, oldest first (the keyworker stays
    with the place that employs them)."""
    contacts = Contact.objects.filter(person=person).order_by("contacted_on", "id")
    return {
        "contacts": [
            {
                "on": c.contacted_on.isoformat(),
                "kind": c.get_kind_display(),
                "with": c.with_whom,
                "summary": c.summary,
            }
            for c in contacts
        ]
    }
