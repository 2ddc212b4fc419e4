"""How the person is managing with health, education and social circumstances (DOMAIN.md):
each judgement dated and kept; the latest in each area is the current standing."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from dsr.core import audit, validation
from dsr.core.models import AuditAction
from dsr.people.choices import CircumstanceArea, Standing
from dsr.people.models import Circumstance, Person
from dsr.people.services.record import lock_open


def record_circumstance(
    *,
    person: Person,
    area: str,
    standing: str,
    note: str,
    by: audit.Context,
    recorded_on: date | None = None,
) -> Circumstance:
    """A new standing in one area: the history before it stays as it was."""
    validation.one_of(area, CircumstanceArea, field="area", message="Select the area")
    validation.one_of(standing, Standing, field="standing", message="Select how they are managing")
    note = validation.text(note, field="note", label="Note", max_length=2000, required=False)
    recorded_on = validation.a_past_date_or_today(recorded_on, field="recorded_on", label="date")
    with transaction.atomic():
        current = lock_open(person, by)
        if recorded_on < current.date_of_birth:
            raise ValidationError(
                {"recorded_on": "The date cannot be before the person's date of birth"}
            )
        latest = (
            Circumstance.objects.filter(person=current, area=area)
            .order_by("-recorded_on", "-id")
            .first()
        )
        if latest is not None and recorded_on < latest.recorded_on:
            raise ValidationError(
                {
                    "recorded_on": "The date cannot be before the current entry for this area "
                    f"({latest.recorded_on:%-d %B %Y})"
                }
            )
        entry = Circumstance.objects.create(
            person=current,
            place_id=current.place_id,
            area=area,
            standing=standing,
            note=note,
            recorded_on=recorded_on,
            recorded_by=by.actor,
            recorded_by_label=by.actor_label or getattr(by.actor, "email", ""),
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=entry,
            person_id=current.pk,
            place_id=current.place_id,
            changes={
                "area": [None, area],
                "standing": [latest.standing if latest else None, standing],
            },
        )
    return entry


def transfer_history(person: Person) -> dict[str, Any]:
    """What a transfer carries of circumstances: every entry, oldest first."""
    entries = Circumstance.objects.filter(person=person).order_by("recorded_on", "id")
    return {
        "circumstances": [
            {
                "area": e.get_area_display(),
                "standing": e.get_standing_display(),
                "note": e.note,
                "on": e.recorded_on.isoformat(),
            }
            for e in entries
        ]
    }
