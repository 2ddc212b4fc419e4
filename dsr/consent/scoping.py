"""The doors to consent records and withdrawals (ADR 0009): seen by whoever may see the
person (for a restricted person, coordinators only: people/scoping.py `visible`)."""

from __future__ import annotations

from dsr.consent.models import Consent, Withdrawal
from dsr.core.door import Door
from dsr.people.scoping import visible

CONSENTS: Door[Consent] = Door(
    Consent,
    scope=lambda m: Consent.objects.filter(visible(m, own_place="place_id")),
    related=["person"],
)
WITHDRAWALS: Door[Withdrawal] = Door(
    Withdrawal,
    scope=lambda m: Withdrawal.objects.filter(visible(m, own_place="place_id")),
    related=["person"],
)
