"""My work for the team who take referrals in: referrals waiting for first contact or a
decision. New referrals reach coordinators in My work and the digest from the day they
arrive (`remind_from`), and are due by the place's first-contact target."""

from __future__ import annotations

from typing import Any

from dsr.core.access import Permission
from dsr.core.routing import url_in
from dsr.referrals.models import Referral
from dsr.referrals.scoping import REFERRALS
from dsr.work.registry import PURPOSE, Provider, WorkItem, register


def waiting(viewer: Any) -> Any:
    return REFERRALS.list(viewer, purpose=PURPOSE).waiting().order_by("received_on", "id")


def referral_item(referral: Referral) -> WorkItem:
    policy = referral.place.settings
    contacted = referral.first_contact_on is not None
    return WorkItem(
        key=f"referral:{referral.pk}:{'triage' if contacted else 'contact'}",
        person_id=referral.person_id,
        person_name=referral.child_name,
        person_born=referral.date_of_birth,
        label=(
            f"Referral {referral.reference}: decide"
            if contacted
            else f"Referral {referral.reference}: make first contact"
        ),
        due_on=None if contacted else referral.first_contact_due(policy.first_contact_working_days),
        remind_from=referral.received_on,
        url=url_in(referral.place_id, "referrals:detail", referral.pk),
    )


def register_providers() -> None:
    register(
        Provider(
            "referrals",
            "Referrals waiting",
            Permission.VIEW_REFERRALS,
            lambda viewer: waiting(viewer).select_related("place__settings"),
            referral_item,
        )
    )
