"""Stays in hospital and C(E)TRs for tests, built through the services (STYLE.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from dsr.core import dates
from dsr.hospital import services as hospital
from dsr.hospital.models import Admission
from dsr.people.models import Person
from dsr.reviews import services as reviews
from dsr.reviews.models import Cetr
from tests.factories import SYSTEM


def stay_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "hospital": "Riverside Hospital",
        "provider": "Riverside NHS Foundation Trust",
        "provider_sector": "nhs",
        "ward_type": "general_adolescent",
        "legal_status": "s3",
        "distance_miles": 12,
        "out_of_area": False,
        "on_register_before": True,
        "admitted_on": dates.today(),
        "delayed_discharge": False,
        "delay_reason": "",
    }
    data.update(overrides)
    return data


def admit(person: Person, **overrides: Any) -> Admission:
    return hospital.admit(person=person, data=stay_data(**overrides), by=SYSTEM)


def discharge(stay: Admission, on: date | None = None, to: str = "family_home") -> Admission:
    stay.refresh_from_db()
    return hospital.discharge(
        admission=stay,
        discharged_on=on or dates.today(),
        destination=to,
        expected_version=stay.version,
        by=SYSTEM,
    )


def request_cetr(person: Person, kind: str = "community", on: date | None = None) -> Cetr:
    return reviews.request_cetr(
        person=person, kind=kind, requested_on=on or dates.today(), by=SYSTEM
    )


PANEL = {
    "chair": "Cass Chair (commissioner)",
    "clinical_expert": "Dr Ellis (independent psychiatrist)",
    "expert_by_experience": "Robin Rowe",
    "other_panel": "",
    "attendees": "Mum; CAMHS care coordinator",
}


def arrange(
    review: Cetr,
    *,
    on: date | None = None,
    consent: str = "parental_responsibility",
    consent_on: date | None = None,
    **more: Any,
) -> Cetr:
    review.refresh_from_db()
    data = {
        **PANEL,
        "scheduled_for": on or dates.today(),
        "consent_basis": consent,
        "consent_given_by": "Mum" if consent else "",
        "consent_on": (consent_on or review.requested_on) if consent else None,
        **more,
    }
    return reviews.update_cetr(cetr=review, data=data, expected_version=review.version, by=SYSTEM)


def hold(review: Cetr, on: date | None = None, summary: str = "Care is right") -> Cetr:
    review.refresh_from_db()
    return reviews.hold_cetr(
        cetr=review,
        held_on=on or review.scheduled_for or dates.today(),
        summary=summary,
        expected_version=review.version,
        by=SYSTEM,
    )
