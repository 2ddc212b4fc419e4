"""Referrals and their triage (DOMAIN.md "The life of a record", ADR 0021).

A referral is recorded by the team (from a professional) or sent through the public form
(by a parent or carer, where the place allows it). The team makes first contact within the
place's working days, then triages: accept (a new person on the register through
`register.services.add_to_register`, or a link to their existing record), decline with a
reason and how it was communicated, or ask for more information. Each step is a dated,
attributed `ReferralDecision`; a referral is never deleted.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from dsr.core import audit, dates, nhs_number, text, validation
from dsr.core.access import require_acting_in
from dsr.core.models import AuditAction, StaleVersion
from dsr.people import services as people
from dsr.people.models import Person
from dsr.places.models import Place
from dsr.referrals.models import (
    Communicated,
    ConsentObtained,
    Decision,
    Referral,
    ReferralDecision,
    Source,
    Status,
)
from dsr.register.services import add_to_register
from dsr.risk import services as risk
from dsr.risk.models import RatingContext

# No 0/O, 1/I/L: a reference is read out over the phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
NOT_WAITING = "This referral has already been decided"
SELF_REFERRAL_OFF = "This place does not take referrals from parents and carers"
PUBLIC_FORM = "public self-referral form"  # the actor label of what the public form writes

# What a referral records about who referred and the child, with the labels forms use.
TEXT_FIELDS = {
    "referrer_name": ("Your name", 150, True),
    "referrer_role": ("Role or relationship", 150, False),
    "referrer_organisation": ("Organisation", 200, False),
    "referrer_phone": ("Phone", 40, False),
    "given_name": ("Given name", 100, True),
    "family_name": ("Family name", 100, True),
    "reason": ("Reason for the referral", 4000, True),
    "current_risks": ("Current risks", 4000, False),
    "consent_from": ("Consent given by", 150, False),
}


def new_reference() -> str:
    """A reference to quote, random (it says nothing of how many referrals there are)."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"R-{code[:4]}-{code[4:]}"


def _clean(data: dict[str, Any], *, place: Place) -> dict[str, Any]:
    """Everything a referral is given, checked; every problem named at once."""
    unknown = set(data) - {
        *TEXT_FIELDS,
        "referrer_email",
        "date_of_birth",
        "nhs_number",
        "postcode",
        "consent_obtained",
        "received_on",
    }
    if unknown:
        raise ValueError(f"Not referral fields: {sorted(unknown)}")
    errors: dict[str, Any] = {}
    cleaned: dict[str, Any] = {}
    for name, (label, length, required) in TEXT_FIELDS.items():
        try:
            cleaned[name] = validation.text(
                data.get(name, ""), field=name, label=label, max_length=length, required=required
            )
        except ValidationError as error:
            errors.update(error.error_dict)  # type: ignore[attr-defined]
    email = data.get("referrer_email", "")
    try:
        email = validation.text(
            email, field="referrer_email", label="Email", max_length=254, required=False
        )
        if email:
            validate_email(email)
        cleaned["referrer_email"] = email.lower()
    except ValidationError as error:
        errors["referrer_email"] = (
            error.error_dict["referrer_email"]  # type: ignore[attr-defined]
            if hasattr(error, "error_dict")
            else "Enter an email address in the correct format, like name@example.com"
        )
    number = data.get("nhs_number", "") or ""
    try:
        cleaned["nhs_number"] = nhs_number.validate(str(number)) if str(number).strip() else ""
    except ValidationError as error:
        errors["nhs_number"] = error
    try:
        cleaned["postcode"] = validation.postcode(data.get("postcode"), field="postcode")
    except ValidationError as error:
        errors.update(error.error_dict)  # type: ignore[attr-defined]
    try:
        validation.phone(cleaned.get("referrer_phone", ""), field="referrer_phone")
    except ValidationError as error:
        errors.update(error.error_dict)  # type: ignore[attr-defined]
    try:
        born = validation.a_past_date(
            data.get("date_of_birth"), field="date_of_birth", label="date of birth"
        )
        people.check_age_in_range(date_of_birth=born, policy=place.settings)
        cleaned["date_of_birth"] = born
    except ValidationError as error:
        errors.update(error.error_dict)  # type: ignore[attr-defined]
    try:
        cleaned["consent_obtained"] = validation.one_of(
            data.get("consent_obtained"),
            ConsentObtained,
            field="consent_obtained",
            message="Select whether consent was obtained",
        )
    except ValidationError as error:
        errors.update(error.error_dict)  # type: ignore[attr-defined]
    try:
        cleaned["received_on"] = validation.a_past_date(
            data.get("received_on", dates.today()), field="received_on", label="date received"
        )
    except ValidationError as error:
        errors.update(error.error_dict)  # type: ignore[attr-defined]
    if cleaned.get("consent_obtained") == ConsentObtained.YES and not cleaned.get("consent_from"):
        errors["consent_from"] = "Enter who gave consent"
    received, birth = cleaned.get("received_on"), cleaned.get("date_of_birth")
    if received is not None and birth is not None and received < birth:
        errors["received_on"] = "The date received cannot be before the date of birth"
    if errors:
        raise ValidationError(errors)
    cleaned["search_name"] = text.search_key(cleaned["given_name"], cleaned["family_name"])
    return cleaned


def _create(
    *, place: Place, source: str, cleaned: dict[str, Any], by: audit.Context, **extra: Any
) -> Referral:
    """The referral and its audit event, in the caller's transaction; a new reference is
    drawn if one is (very rarely) already taken."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                referral = Referral.objects.create(
                    place=place,
                    reference=new_reference(),
                    source=source,
                    created_by=by.actor,
                    created_by_label=by.actor_label or getattr(by.actor, "email", ""),
                    **cleaned,
                    **extra,
                )
                audit.record(
                    context=by,
                    action=AuditAction.CREATED,
                    obj=referral,
                    place_id=place.pk,
                    changes={"source": [None, source], "reference": [None, referral.reference]},
                )
                return referral
        except IntegrityError:
            continue
    raise RuntimeError("Could not draw a free referral reference")


def record_referral(*, place: Place, data: dict[str, Any], by: audit.Context) -> Referral:
    """A professional's referral, recorded by the team."""
    require_acting_in(by, place.pk)
    cleaned = _clean(data, place=place)
    with transaction.atomic():
        return _create(place=place, source=Source.PROFESSIONAL, cleaned=cleaned, by=by)


def submit_self_referral(*, place: Place, data: dict[str, Any], client: str) -> Referral:
    """A parent's or carer's referral from the public form, where the place takes them.
    Treated as hostile input: every field checked, nothing about anyone else said back."""
    if not place.settings.parent_self_referral:
        raise ValidationError(SELF_REFERRAL_OFF)
    cleaned = _clean({**data, "received_on": dates.today()}, place=place)
    if not (cleaned["referrer_phone"] or cleaned["referrer_email"]):
        raise ValidationError({"referrer_phone": "Enter a phone number or an email address"})
    by = audit.Context(actor=None, place_id=place.pk, actor_label=PUBLIC_FORM, request_id=client)
    with transaction.atomic():
        return _create(place=place, source=Source.SELF, cleaned=cleaned, by=by)


def record_refused_submission(*, place: Place, reason: str, client: str) -> None:
    """A public submission refused (a honeypot filled in, a rate limit reached): kept where
    the place's auditors see it, with the client's address and nothing else."""
    with transaction.atomic():
        audit.record(
            context=audit.Context(actor=None, place_id=place.pk, actor_label=PUBLIC_FORM),
            action=AuditAction.DENIED,
            object_type="Referral",
            place_id=place.pk,
            changes={"reason": reason, "ip": client},
        )


# --- Triage ------------------------------------------------------------------------------


def _lock(referral: Referral, *, expected_version: int, by: audit.Context) -> Referral:
    current = Referral.objects.select_for_update().get(pk=referral.pk)
    require_acting_in(by, current.place_id)
    if current.version != expected_version:
        raise StaleVersion()
    return current


def _decide(
    referral: Referral,
    *,
    decision: str,
    on: date,
    note: str,
    by: audit.Context,
    communicated: str = "",
    changes: dict[str, Any] | None = None,
) -> ReferralDecision:
    entry = ReferralDecision.objects.create(
        referral=referral,
        decision=decision,
        decided_on=on,
        note=note,
        communicated=communicated,
        decided_by=by.actor,
        decided_by_label=by.actor_label or getattr(by.actor, "email", ""),
    )
    audit.record(
        context=by,
        action=AuditAction.CHANGED,
        obj=referral,
        person_id=referral.person_id,
        place_id=referral.place_id,
        changes={"decision": [None, decision], **(changes or {})},
    )
    return entry


def _on(day: Any, referral: Referral, *, field: str = "decided_on", given: bool = False) -> date:
    """The day of a decision on the referral: today unless one is `given` (then it must
    be)."""
    check = validation.a_past_date if given else validation.a_past_date_or_today
    day = check(day, field=field, label="date")
    if day < referral.received_on:
        came_in = f"{referral.received_on:%-d %B %Y}"
        raise ValidationError(
            {field: f"The date cannot be before the referral came in ({came_in})"}
        )
    return day


def record_first_contact(
    *,
    referral: Referral,
    contacted_on: date,
    how: str,
    note: str,
    expected_version: int,
    by: audit.Context,
) -> Referral:
    """The team has made first contact (the place's "within N working days" target)."""
    validation.one_of(
        how, Communicated, field="communicated", message="Select how you made contact"
    )
    note = validation.text(note, field="note", label="Note", max_length=4000, required=False)
    with transaction.atomic():
        current = _lock(referral, expected_version=expected_version, by=by)
        if current.first_contact_on is not None:
            raise ValidationError("First contact has already been recorded")
        day = _on(contacted_on, current, field="contacted_on", given=True)
        current.save_if_current(expected_version, first_contact_on=day)
        _decide(
            current,
            decision=Decision.FIRST_CONTACT,
            on=day,
            note=note,
            communicated=how,
            by=by,
            changes={"first_contact_on": [None, day]},
        )
    return current


def request_information(
    *,
    referral: Referral,
    what: str,
    how: str,
    expected_version: int,
    by: audit.Context,
    on: date | None = None,
) -> Referral:
    """Ask the referrer (or others) for more before deciding."""
    what = validation.text(
        what, field="note", label="What is needed", max_length=4000, required=True
    )
    validation.one_of(how, Communicated, field="communicated", message="Select how you asked")
    with transaction.atomic():
        current = _lock(referral, expected_version=expected_version, by=by)
        if not current.is_waiting:
            raise ValidationError(NOT_WAITING)
        day = _on(on, current)
        before = current.status
        current.save_if_current(expected_version, status=Status.MORE_INFORMATION)
        _decide(
            current,
            decision=Decision.MORE_INFORMATION,
            on=day,
            note=what,
            communicated=how,
            by=by,
            changes={"status": [before, Status.MORE_INFORMATION]},
        )
    return current


def decline_referral(
    *,
    referral: Referral,
    reason: str,
    how: str,
    expected_version: int,
    by: audit.Context,
    on: date | None = None,
) -> Referral:
    """Decline, with the reason recorded and how it was communicated. A declined transfer
    goes back: the sending place's record is opened again (ADR 0021)."""
    reason = validation.text(
        reason, field="note", label="Why it is declined", max_length=4000, required=True
    )
    validation.one_of(
        how, Communicated, field="communicated", message="Select how the decision was communicated"
    )
    with transaction.atomic():
        current = _lock(referral, expected_version=expected_version, by=by)
        if not current.is_waiting:
            raise ValidationError(NOT_WAITING)
        day = _on(on, current)
        before = current.status
        current.save_if_current(expected_version, status=Status.DECLINED)
        _decide(
            current,
            decision=Decision.DECLINED,
            on=day,
            note=reason,
            communicated=how,
            by=by,
            changes={"status": [before, Status.DECLINED]},
        )
        if current.source == Source.TRANSFER:
            from dsr.referrals import transfers

            transfers.return_to_sender(current, reason=reason, by=by)
    return current


def accept_as_new_person(
    *,
    referral: Referral,
    person_data: dict[str, Any],
    rating: str,
    rationale: str,
    expected_version: int,
    by: audit.Context,
    factors: Iterable[Any] = (),
) -> Person:
    """Accept onto the register: a new person with their first rating, and the referral
    linked to them, in one transaction."""
    with transaction.atomic():
        current = _lock(referral, expected_version=expected_version, by=by)
        if not current.is_waiting:
            raise ValidationError(NOT_WAITING)
        person = add_to_register(
            place=current.place,
            data=person_data,
            rating=rating,
            rationale=rationale,
            factors=factors,
            by=by,
        )
        _accept(current, person=person, expected_version=expected_version, by=by, note="")
    return person


def accept_for_existing_person(
    *,
    referral: Referral,
    person: Person,
    expected_version: int,
    by: audit.Context,
    note: str = "",
    rating: str = "",
    rationale: str = "",
) -> Person:
    """Accept for someone this place already has a record of (found by NHS number or name
    and date of birth). A closed record is opened again, with a new rating."""
    note = validation.text(note, field="note", label="Note", max_length=4000, required=False)
    with transaction.atomic():
        current = _lock(referral, expected_version=expected_version, by=by)
        if not current.is_waiting:
            raise ValidationError(NOT_WAITING)
        record = people.lock(person)
        if record.place_id != current.place_id:
            raise ValidationError({"person": "Choose a record on this place's register"})
        if not record.is_open:
            if not rating:
                raise ValidationError({"rating": "Select a rating: the record is opened again"})
            people.reopen_record(
                person=record, note=f"Referral {current.reference} accepted", by=by
            )
            risk.rate(
                person=record,
                rating=rating,
                rationale=rationale,
                context=RatingContext.INITIAL,
                by=by,
            )
        _accept(current, person=record, expected_version=expected_version, by=by, note=note)
    return record


def _accept(
    referral: Referral, *, person: Person, expected_version: int, by: audit.Context, note: str
) -> None:
    before = referral.status
    referral.save_if_current(expected_version, status=Status.ACCEPTED, person=person)
    _decide(
        referral,
        decision=Decision.ACCEPTED,
        on=dates.today(),
        note=note,
        by=by,
        changes={"status": [before, Status.ACCEPTED], "person": [None, person.pk]},
    )
