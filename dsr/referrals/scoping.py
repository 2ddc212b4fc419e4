"""The doors to referrals and their decisions (ADR 0009): the place's team who take
referrals in (core/access.py VIEW_REFERRALS) see its referrals; no one else, not even
partners of the child's network. A referral accepted for someone whose consent was later
withdrawn goes to coordinators only (people/sharing.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from dsr.core.access import Permission, role_has
from dsr.core.door import Door
from dsr.people import sharing
from dsr.referrals.models import Referral, ReferralDecision


def _referrals_for(membership: Any, *, path: str = "") -> Q:
    if not role_has(membership.role, Permission.VIEW_REFERRALS):
        return Q(pk__in=[])
    prefix = f"{path}__" if path else ""
    audience = sharing.Audience.of_membership(membership)
    return Q(**{f"{prefix}place_id": membership.place_id}) & sharing.shareable(
        audience, person=f"{prefix}person"
    )


REFERRALS: Door[Referral] = Door(
    Referral,
    scope=lambda m: Referral.objects.filter(_referrals_for(m)),
    about_people=False,
)
DECISIONS: Door[ReferralDecision] = Door(
    ReferralDecision,
    scope=lambda m: ReferralDecision.objects.filter(_referrals_for(m, path="referral")),
    person="referral__person_id",
    place="referral__place_id",
    about_people=False,
)


def waiting_for_first_contact(place_id: int) -> list[Any]:
    """The days the place's waiting referrals without a first contact came in (dates, never
    a person: for what a settings change affects)."""
    return list(
        Referral.objects.waiting()
        .filter(place_id=place_id, first_contact_on__isnull=True)
        .values_list("received_on", flat=True)
    )


def received_between(place_id: int, after: Any, until: Any) -> list[Referral]:
    """Referrals received after `after` up to `until`, for a tracker meeting's agenda
    (meetings/services.py), never shown as they are."""
    return list(
        Referral.objects.filter(
            place_id=place_id, received_on__gt=after, received_on__lte=until
        ).only("pk", "person_id", "received_on", "status")
    )
