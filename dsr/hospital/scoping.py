"""The doors to inpatient episodes and oversight visits (ADR 0009): each is seen by whoever
may see the person it is about (people/scoping.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from dsr.core.door import Door
from dsr.hospital.models import Admission, OversightVisit
from dsr.people.scoping import follows_person

ADMISSIONS: Door[Admission] = Door(
    Admission,
    **follows_person(Admission, own_place="place_id"),
    related=["person", "person__place__settings"],
)
VISITS: Door[OversightVisit] = Door(
    OversightVisit,
    **follows_person(OversightVisit, own_place="place_id"),
    related=["admission", "person"],
)


def in_hospital(person: str = "pk") -> Any:
    """A filter for people with an open episode (a subquery: it shows no one)."""
    return Exists(Admission.objects.current().filter(person_id=OuterRef(person)))


def stays_for_agenda(place_id: int, *, since: Any, until: Any, due_by: Any) -> list[Admission]:
    """Stays a tracker meeting's agenda names (meetings/services.py): current ones with a
    C(E)TR due by `due_by`, and admissions or discharges after `since` up to `until`."""
    return list(
        Admission.objects.filter(place_id=place_id, person__status="open")
        .filter(
            Q(discharged_on__isnull=True, cetr_due__lte=due_by)
            | Q(admitted_on__gt=since, admitted_on__lte=until)
            | Q(discharged_on__gt=since, discharged_on__lte=until)
        )
        .only("person_id", "hospital", "admitted_on", "discharged_on", "cetr_due", "cetr_due_kind")
    )
