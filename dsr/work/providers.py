"""My work's items: signals, reviews, C(E)TRs due, the user's own actions, records to close,
consent to re-confirm, and a keyworker's contacts due.

Each provider reads through the doors (ADR 0009), so My work and the reminder digest
record which people they showed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q

from dsr.actions.models import Action
from dsr.actions.scoping import ACTIONS
from dsr.core import dates
from dsr.core.access import Permission
from dsr.core.routing import url_in
from dsr.keywork.models import Allocation
from dsr.keywork.scoping import ALLOCATIONS, with_last_contact
from dsr.people.choices import ConsentState, Status
from dsr.people.models import Person
from dsr.people.scoping import PEOPLE
from dsr.risk.models import Signal
from dsr.risk.rules import COMMUNITY_CETR
from dsr.risk.scoping import SIGNALS
from dsr.work import cetrs
from dsr.work.registry import PURPOSE, Provider, WorkItem, register


def reviews_due(viewer: Any) -> Any:
    """The open register's reviews due soon or overdue."""
    horizon = dates.today() + timedelta(days=viewer.membership.place.settings.review_due_soon_days)
    return (
        PEOPLE.list(viewer, purpose=PURPOSE)
        .filter(status=Status.OPEN, review_due__lte=horizon)
        .order_by("review_due", "id")
        .only("id", "place_id", "given_name", "family_name", "date_of_birth", "review_due")
    )


def review_item(person: Person) -> WorkItem:
    return WorkItem(
        key=f"review:{person.pk}:{person.review_due}",
        person_id=person.pk,
        person_name=person.full_name,
        person_born=person.date_of_birth,
        label="Review due",
        due_on=person.review_due,
        url=url_in(person.place_id, "risk:review", person.pk),
    )


def my_actions(viewer: Any) -> Any:
    """Open actions the user owns, on closed records too, until they are finished
    (community C(E)TRs have their own list)."""
    return (
        ACTIONS.list(viewer, purpose=PURPOSE)
        .open()
        .filter(owner_user_id=viewer.membership.user_id)
        .exclude(rule_key=COMMUNITY_CETR)
        .select_related("person")
        .order_by("due_on", "id")
    )


def action_item(action: Action) -> WorkItem:
    return WorkItem(
        key=f"action:{action.pk}",
        person_id=action.person_id,
        person_name=action.person.full_name,
        person_born=action.person.date_of_birth,
        label=action.description,
        due_on=action.due_on,
        url=url_in(action.place_id, "actions:update", action.pk),
    )


def signals_to_look_at(viewer: Any) -> Any:
    return (
        SIGNALS.list(viewer, purpose=PURPOSE)
        .open()
        .filter(person__status=Status.OPEN)
        .select_related("person")
        .order_by("-fired_on", "-id")
    )


def signal_item(signal: Signal) -> WorkItem:
    return WorkItem(
        key=f"signal:{signal.pk}",
        person_id=signal.person_id,
        person_name=signal.person.full_name,
        person_born=signal.person.date_of_birth,
        label=f"Review now: {signal.explanation}",
        due_on=signal.fired_on,
        url=url_in(signal.place_id, "register:person", signal.person_id),
    )


def to_close(viewer: Any) -> Any:
    """Consent withdrawn: the record is flagged for a coordinator to close (DOMAIN.md)."""
    return (
        PEOPLE.list(viewer, purpose=PURPOSE)
        .filter(status=Status.OPEN, consent_state=ConsentState.WITHDRAWN)
        .order_by("updated_at", "id")
        .only("id", "place_id", "given_name", "family_name", "date_of_birth", "consent_state")
    )


def close_item(person: Person) -> WorkItem:
    return WorkItem(
        key=f"close:{person.pk}",
        person_id=person.pk,
        person_name=person.full_name,
        person_born=person.date_of_birth,
        label="Close the record: consent withdrawn",
        due_on=None,
        remind_from=dates.today(),
        url=url_in(person.place_id, "people:close", person.pk),
    )


def consent_due(viewer: Any) -> Any:
    """Consent is re-confirmed yearly (the place's setting): due soon or overdue."""
    horizon = dates.today() + timedelta(days=viewer.membership.place.settings.review_due_soon_days)
    return (
        PEOPLE.list(viewer, purpose=PURPOSE)
        .filter(status=Status.OPEN, consent_reconfirm_by__lte=horizon)
        .exclude(consent_state=ConsentState.WITHDRAWN)
        .order_by("consent_reconfirm_by", "id")
        .only(
            "id", "place_id", "given_name", "family_name", "date_of_birth", "consent_reconfirm_by"
        )
    )


def consent_item(person: Person) -> WorkItem:
    return WorkItem(
        key=f"consent:{person.pk}:{person.consent_reconfirm_by}",
        person_id=person.pk,
        person_name=person.full_name,
        person_born=person.date_of_birth,
        label="Re-confirm consent",
        due_on=person.consent_reconfirm_by,
        url=url_in(person.place_id, "consent:new", person.pk),
    )


def contacts_due(viewer: Any) -> Any:
    """The keyworker's own caseload whose next contact is due soon or overdue: the last
    contact (or the allocation, before any) more than the contact interval ago."""
    policy = viewer.membership.place.settings
    horizon = dates.today() + timedelta(days=policy.review_due_soon_days)
    cutoff = horizon - timedelta(days=policy.keyworker_contact_days)
    return (
        with_last_contact(
            ALLOCATIONS.list(viewer, purpose=PURPOSE)
            .current()
            .filter(keyworker_id=viewer.membership.user_id, person__status=Status.OPEN)
        )
        .filter(
            Q(last_contact_on__lte=cutoff) | Q(last_contact_on__isnull=True, started_on__lte=cutoff)
        )
        .select_related("person", "place__settings")
        .order_by("started_on", "id")
    )


def contact_item(allocation: Allocation) -> WorkItem:
    person = allocation.person
    since = allocation.last_contact_on or allocation.started_on  # type: ignore[attr-defined]
    due = since + timedelta(days=allocation.place.settings.keyworker_contact_days)
    return WorkItem(
        key=f"contact:{allocation.pk}:{since}",
        person_id=person.pk,
        person_name=person.full_name,
        person_born=person.date_of_birth,
        label="Keep in contact with the family"
        if allocation.last_contact_on
        else "Make first contact as their keyworker",  # type: ignore[attr-defined]
        due_on=due,
        url=url_in(allocation.place_id, "keywork:contact_new", person.pk),
    )


def register_defaults() -> None:
    for provider in [
        Provider(
            "signals", "Signals to look at", Permission.RATE_PERSON, signals_to_look_at, signal_item
        ),
        Provider(
            "reviews", "Reviews due and overdue", Permission.RECORD_REVIEW, reviews_due, review_item
        ),
        # A Red rating's community C(E)TR, linked to the review that completes it (work/cetrs.py).
        Provider(
            "cetrs",
            "Community C(E)TRs due",
            Permission.RATE_PERSON,
            cetrs.community_cetrs,
            cetrs.community_cetr_item,
        ),
        Provider("actions", "Your actions", Permission.VIEW_MY_WORK, my_actions, action_item),
        Provider("close", "Records to close", Permission.CLOSE_PERSON, to_close, close_item),
        Provider(
            "consent", "Consent to re-confirm", Permission.RECORD_CONSENT, consent_due, consent_item
        ),
        Provider(
            "contacts",
            "Contacts due with your families",
            Permission.LOG_CONTACT,
            contacts_due,
            contact_item,
        ),
    ]:
        register(provider)
    cetrs.register_providers()
