"""The doors to keyworker allocations and contacts (ADR 0009): seen by whoever may see the
person; and the caseload query, with each person's last contact, in one statement."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Subquery

from dsr.core.door import Door
from dsr.keywork.models import Allocation, Contact
from dsr.people.scoping import follows_person

ALLOCATIONS: Door[Allocation] = Door(
    Allocation,
    **follows_person(Allocation, own_place="place_id"),
    related=["person", "keyworker"],
)
CONTACTS: Door[Contact] = Door(
    Contact,
    **follows_person(Contact, own_place="place_id"),
)


def _last_contact(field: str) -> Subquery:
    latest = Contact.objects.filter(person=OuterRef("person")).order_by("-contacted_on", "-id")
    return Subquery(latest.values(field)[:1])


def with_last_contact(allocations: Any) -> Any:
    """Allocations (a door's queryset) with `last_contact_on` and `last_contact_kind`."""
    return allocations.annotate(
        last_contact_on=_last_contact("contacted_on"),
        last_contact_kind=_last_contact("kind"),
    )


def eligible_without_keyworker(viewer: Any, people: Any) -> Any:
    """Open people (a door's queryset of people) eligible for a keyworker by the place's
    policy who have none: the coordinator's list to allocate from."""
    from dsr.core import dates

    policy = viewer.membership.place.settings
    youngest_excluded = dates.add_years(dates.today(), -policy.keyworker_max_age)
    allocated = Allocation.objects.current().filter(place_id=viewer.membership.place_id)
    return people.filter(
        status="open",
        current_rating__in=list(policy.keyworker_ratings),
        date_of_birth__gt=youngest_excluded,
    ).exclude(pk__in=allocated.values("person_id"))


def current_keyworker(person: str = "person_id") -> Subquery:
    """An annotation: the full name of the keyworker allocated to the person at `person` now
    ("" subquery result None when there is none). A subquery shows no one: nothing to audit."""
    allocated = Allocation.objects.current().filter(person_id=OuterRef(person))
    return Subquery(allocated.values("keyworker__full_name")[:1])


def count_contacts_overdue(place_id: int, interval_days: int) -> int:
    """How many current allocations in the place would have their next contact overdue with
    this interval: a number, never a person (for what a settings change affects)."""
    from datetime import timedelta

    from django.db.models import Q

    from dsr.core import dates

    cutoff = dates.today() - timedelta(days=interval_days)
    current = with_last_contact(Allocation.objects.current().filter(place_id=place_id))
    return int(
        current.filter(
            Q(last_contact_on__lt=cutoff) | Q(last_contact_on__isnull=True, started_on__lt=cutoff)
        ).count()
    )
