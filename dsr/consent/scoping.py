"""The doors to consent records and withdrawals (ADR 0009): seen by whoever may see the
person (for a restricted person, coordinators only: people/scoping.py `visible`)."""

from __future__ import annotations

from dsr.consent.models import Consent, Withdrawal
from dsr.core.door import Door
from dsr.people.scoping import follows_person

CONSENTS: Door[Consent] = Door(
    Consent,
    **follows_person(Consent, own_place="place_id"),
    related=["person"],
)
WITHDRAWALS: Door[Withdrawal] = Door(
    Withdrawal,
    **follows_person(Withdrawal, own_place="place_id"),
    related=["person"],
)
