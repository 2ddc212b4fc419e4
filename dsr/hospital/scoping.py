"""The doors to inpatient episodes and oversight visits (ADR 0009): each is seen by whoever
may see the person it is about (people/scoping.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef

from dsr.core.door import Door
from dsr.hospital.models import Admission, OversightVisit
from dsr.people.scoping import visible

ADMISSIONS: Door[Admission] = Door(
    Admission,
    scope=lambda m: Admission.objects.filter(visible(m, own_place="place_id")),
    related=["person", "person__place__settings"],
)
VISITS: Door[OversightVisit] = Door(
    OversightVisit,
    scope=lambda m: OversightVisit.objects.filter(visible(m, own_place="place_id")),
    related=["admission", "person"],
)


def in_hospital(person: str = "pk") -> Any:
    """A filter for people with an open episode (a subquery: it shows no one)."""
    return Exists(Admission.objects.current().filter(person_id=OuterRef(person)))
