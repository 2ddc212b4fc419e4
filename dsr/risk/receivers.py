"""A new place gets the default risk-factor checklist (DOMAIN.md "Risk rating")."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from dsr.places.models import Place
from dsr.risk.services import seed_risk_factors


@receiver(post_save, sender=Place, dispatch_uid="risk_seed_factors")
def seed_factors_for_new_place(
    sender: type[Place], instance: Place, created: bool, **_: Any
) -> None:
    if created:
        seed_risk_factors(place=instance)
