"""Business operations on the person record (DESIGN.md principle 3)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from dsr.core import audit, dates, nhs_number
from dsr.core.models import AuditAction
from dsr.people.choices import Status
from dsr.people.models import Person
from dsr.places.models import Place, PlaceSettings
from dsr.risk import services as risk
from dsr.risk.models import RatingContext

# What a person record is made of, beyond its place and status.
EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "nhs_number",
    "ethnicity",
    "address",
    "postcode",
    "local_authority",
    "gp_practice",
    "accommodation",
    "learning_disability",
    "autism",
    "diagnosis_notes",
    "education_setting",
    "education_attendance",
    "ehc_plan",
    "looked_after",
    "child_protection_plan",
    "child_in_need",
    "communication_needs",
    "key_safety_information",
)


def check_age_in_range(*, date_of_birth: date, policy: PlaceSettings) -> None:
    """On the register from `register_min_age` until the `register_max_age` birthday."""
    if date_of_birth > dates.today():
        raise ValidationError("Date of birth must be today or in the past", code="future")
    age = dates.age_on(date_of_birth, dates.today())
    if age < policy.register_min_age or age >= policy.register_max_age:
        raise ValidationError(
            f"This person is {age}. The register is for people aged "
            f"{policy.register_min_age} up to their {policy.register_max_age}th birthday",
            code="age_out_of_range",
        )


@dataclass(frozen=True)
class Duplicate:
    person_id: int
    place_id: int
    reason: str


def likely_duplicates(
    *,
    nhs: str,
    given_name: str,
    family_name: str,
    date_of_birth: date | None,
    exclude_id: int | None = None,
) -> list[Duplicate]:
    """Records that may be the same person: same NHS number, or same name and date of birth.

    Searched across every place (a duplicate elsewhere matters too); the caller
    decides what the user may be shown of each.
    """
    query = Q()
    if nhs:
        query |= Q(nhs_number=nhs)
    if date_of_birth and given_name and family_name:
        query |= Q(
            date_of_birth=date_of_birth,
            given_name__iexact=given_name.strip(),
            family_name__iexact=family_name.strip(),
        )
    if not query:
        return []
    found = Person.objects.filter(query).order_by("-status", "id")
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    return [
        Duplicate(
            person_id=p.id,
            place_id=p.place_id,
            reason="same NHS number"
            if nhs and p.nhs_number == nhs
            else "same name and date of birth",
        )
        for p in found.only("id", "place_id", "nhs_number")[:10]
    ]


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not person fields: {sorted(unknown)}")
    cleaned = dict(data)
    if "nhs_number" in cleaned:
        cleaned["nhs_number"] = (
            nhs_number.validate(cleaned["nhs_number"]) if cleaned["nhs_number"] else ""
        )
    if "postcode" in cleaned:
        cleaned["postcode"] = " ".join(str(cleaned["postcode"]).upper().split())
    return cleaned


def _open_nhs_number_taken(nhs: str, exclude_id: int | None) -> bool:
    if not nhs:
        return False
    taken = Person.objects.filter(nhs_number=nhs, status=Status.OPEN)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    return taken.exists()


NHS_NUMBER_TAKEN = "There is already an open record with this NHS number"


def create_person(*, place: Place, data: dict[str, Any], by: audit.Context) -> Person:
    cleaned = _clean(data)
    check_age_in_range(date_of_birth=cleaned["date_of_birth"], policy=place.settings)
    try:
        with transaction.atomic():
            if _open_nhs_number_taken(cleaned.get("nhs_number", ""), None):
                raise ValidationError({"nhs_number": NHS_NUMBER_TAKEN})
            person = Person.objects.create(place=place, **cleaned)
            audit.record(
                context=by,
                action=AuditAction.CREATED,
                obj=person,
                person_id=person.pk,
                place_id=person.place_id,
                changes={k: [None, v] for k, v in cleaned.items() if v not in ("", None, False)},
            )
    except IntegrityError as error:  # a concurrent create won the race for the NHS number
        raise ValidationError({"nhs_number": NHS_NUMBER_TAKEN}) from error
    return person


def add_to_register(
    *,
    place: Place,
    data: dict[str, Any],
    rating: str,
    rationale: str,
    by: audit.Context,
    factors: Iterable[Any] = (),
    rated_on: date | None = None,
) -> Person:
    """A person joins the register with their first rating: never one without the other."""
    with transaction.atomic():
        person = create_person(place=place, data=data, by=by)
        risk.rate(
            person=person,
            rating=rating,
            rationale=rationale,
            factors=factors,
            decided_on=rated_on,
            context=RatingContext.INITIAL,
            by=by,
        )
    return person


def update_person(
    *, person: Person, data: dict[str, Any], expected_version: int, by: audit.Context
) -> Person:
    cleaned = _clean(data)
    if "date_of_birth" in cleaned and cleaned["date_of_birth"] != person.date_of_birth:
        check_age_in_range(date_of_birth=cleaned["date_of_birth"], policy=person.place.settings)
    changes = {
        name: [getattr(person, name), value]
        for name, value in cleaned.items()
        if getattr(person, name) != value
    }
    try:
        with transaction.atomic():
            if person.is_open and _open_nhs_number_taken(cleaned.get("nhs_number", ""), person.pk):
                raise ValidationError({"nhs_number": NHS_NUMBER_TAKEN})
            person.save_if_current(expected_version, **cleaned)
            if changes:
                audit.record(
                    context=by,
                    action=AuditAction.CHANGED,
                    obj=person,
                    person_id=person.pk,
                    place_id=person.place_id,
                    changes=changes,
                )
    except IntegrityError as error:
        raise ValidationError({"nhs_number": NHS_NUMBER_TAKEN}) from error
    return person


def close_record(
    *,
    person: Person,
    reason: str,
    closed_on: date,
    note: str,
    expected_version: int,
    by: audit.Context,
) -> Person:
    """Take a person off the register. The record is kept (never deleted)."""
    if not person.is_open:
        raise ValidationError("This record is already closed")
    if closed_on > dates.today():
        raise ValidationError({"closed_on": "The date closed must be today or in the past"})
    if closed_on < person.date_of_birth:
        raise ValidationError({"closed_on": "The date closed must be after the date of birth"})
    with transaction.atomic():
        person.save_if_current(
            expected_version,
            status=Status.CLOSED,
            closure_reason=reason,
            closed_on=closed_on,
            closure_note=note,
        )
        audit.record(
            context=by,
            action=AuditAction.CLOSED,
            obj=person,
            person_id=person.pk,
            place_id=person.place_id,
            changes={"closure_reason": [None, reason], "closed_on": [None, closed_on]},
        )
    return person


def record_view(*, person: Person, by: audit.Context, what: str = "record") -> None:
    audit.record_read(
        context=by, page=what, obj=person, person_id=person.pk, place_id=person.place_id
    )


def record_search(*, terms: dict[str, str], results: int, by: audit.Context) -> None:
    with transaction.atomic():
        audit.record(
            context=by,
            action=AuditAction.SEARCHED,
            object_type="Person",
            changes={"terms": terms, "results": results},
        )
