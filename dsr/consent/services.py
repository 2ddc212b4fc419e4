"""Recording consent and its withdrawal (DOMAIN.md "Consent and information sharing").

Each operation locks the person, validates everything it is given, writes the dated record,
keeps the register's copy of where consent stands (people.keep_consent_picture: the state
that people/sharing.py restricts on) and its audit event, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from dsr.consent.models import (
    BASES,
    BASIS_AGES,
    Consent,
    ConsentBasis,
    ConsentGiver,
    Evidence,
    Withdrawal,
)
from dsr.core import audit, dates, validation
from dsr.core.access import require_acting_in
from dsr.core.models import AuditAction
from dsr.people import services as people
from dsr.people.choices import ConsentState
from dsr.people.models import Person
from dsr.places.models import Organisation

# Evidence that is only as good as what is written down about it.
NOTE_NEEDED = {Evidence.RECORDED_CONVERSATION, Evidence.BEST_INTERESTS_RECORD}


def latest_consent(person: Person) -> Consent | None:
    return Consent.objects.filter(person=person).order_by("-given_on", "-id").first()


def _last_decision_day(person: Person) -> date | None:
    """The latest day consent was given or withdrawn: a new decision cannot predate it."""
    days = [
        Consent.objects.filter(person=person)
        .order_by("-given_on")
        .values_list("given_on", flat=True)[:1],
        Withdrawal.objects.filter(person=person)
        .order_by("-withdrawn_on")
        .values_list("withdrawn_on", flat=True)[:1],
    ]
    found = [day for query in days for day in query]
    return max(found) if found else None


def _check_day(day: Any, person: Person, *, field: str, label: str) -> date:
    day = validation.a_past_date(day, field=field, label=label)
    if day < person.date_of_birth:
        raise ValidationError({field: f"The {label} cannot be before the person's date of birth"})
    last = _last_decision_day(person)
    if last is not None and day < last:
        raise ValidationError(
            {field: f"The {label} cannot be before the last consent decision ({last:%-d %B %Y})"}
        )
    return day


def _organisations(chosen: Iterable[Any], person: Person) -> list[Organisation]:
    """The organisations as the database holds them now: the person's place's own."""
    message = "Choose organisations from this place's list"
    chosen = validation.each_a(chosen, Organisation, field="share_with", message=message)
    wrong = ValidationError({"share_with": message})
    found = list(
        Organisation.objects.filter(
            pk__in=[o.pk for o in chosen], place=person.place_id, is_active=True
        )
    )
    if len(found) != len({o.pk for o in chosen}):
        raise wrong
    return found


def check_basis(*, given_by: str, basis: str, age: int) -> None:
    """Who may consent, on which basis, at which age (consent.models.BASES, BASIS_AGES)."""
    if basis not in BASES[ConsentGiver(given_by)]:
        raise ValidationError({"basis": "This basis does not fit who gave consent"})
    low, high = BASIS_AGES[ConsentBasis(basis)]
    if not low <= age < high:
        words = {
            ConsentBasis.GILLICK: "Gillick competence applies under 16: from 16 the Mental "
            "Capacity Act applies",
            ConsentBasis.CAPACITY: "The Mental Capacity Act applies from 16: under 16, use "
            "Gillick competence",
            ConsentBasis.PARENTAL_RESPONSIBILITY: "Parental responsibility ends at 18: an "
            "adult consents for themselves, or a best-interests decision is made",
            ConsentBasis.BEST_INTERESTS: "A best-interests decision under the Mental Capacity "
            "Act is for people of 16 or over",
        }
        raise ValidationError({"basis": f"{words[ConsentBasis(basis)]}. They were {age}"})


def record_consent(
    *,
    person: Person,
    given_by: str,
    basis: str,
    consenter: str,
    given_on: date,
    evidence: str,
    by: audit.Context,
    evidence_note: str = "",
    share_with: Iterable[Organisation] = (),
) -> Consent:
    """Consent to being on the register (and to sharing with the organisations named):
    given, or re-confirmed, or given again after a withdrawal."""
    validation.one_of(given_by, ConsentGiver, field="given_by", message="Select who consented")
    validation.one_of(basis, ConsentBasis, field="basis", message="Select the basis")
    validation.one_of(evidence, Evidence, field="evidence", message="Select how it is evidenced")
    consenter = validation.text(
        consenter, field="consenter", label="Name", max_length=150, required=True
    )
    evidence_note = validation.text(
        evidence_note, field="evidence_note", label="Details", max_length=2000, required=False
    )
    if evidence in NOTE_NEEDED and not evidence_note:
        raise ValidationError({"evidence_note": "Enter what was said or decided, and by whom"})
    with transaction.atomic():
        current = people.lock_open(person, by)
        given_on = _check_day(given_on, current, field="given_on", label="date consent was given")
        check_basis(given_by=given_by, basis=basis, age=current.age_on(given_on))
        organisations = _organisations(share_with, current)
        reconfirm_by = dates.add_months(given_on, current.place.settings.consent_reconfirm_months)
        if reconfirm_by <= dates.today():
            raise ValidationError(
                {"given_on": "This consent would already need re-confirming: record today's"}
            )
        consent = Consent.objects.create(
            person=current,
            place_id=current.place_id,
            given_by=given_by,
            basis=basis,
            consenter=consenter,
            given_on=given_on,
            evidence=evidence,
            evidence_note=evidence_note,
            reconfirm_by=reconfirm_by,
            recorded_by=by.actor,
            recorded_by_label=by.actor_label or getattr(by.actor, "email", ""),
        )
        consent.share_with.set(organisations)
        before = current.consent_state
        people.keep_consent_picture(
            person=current, state=ConsentState.GIVEN, reconfirm_by=reconfirm_by
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=consent,
            person_id=current.pk,
            place_id=current.place_id,
            changes={
                "consent_state": [before or None, ConsentState.GIVEN],
                "given_by": [None, given_by],
                "basis": [None, basis],
                "share_with": [None, sorted(o.name for o in organisations)],
                "reconfirm_by": [None, reconfirm_by],
            },
        )
    person.consent_state, person.consent_reconfirm_by = ConsentState.GIVEN, reconfirm_by
    return consent


def withdraw_consent(
    *,
    person: Person,
    withdrawn_on: date,
    withdrawn_by: str,
    by: audit.Context,
    note: str = "",
) -> Withdrawal:
    """Consent withdrawn, at any time (on a closed record too): the record is restricted at
    once — only coordinators see who the person is — and flagged for the coordinator to
    close (My work)."""
    withdrawn_by = validation.text(
        withdrawn_by,
        field="withdrawn_by",
        label="Who withdrew consent",
        max_length=150,
        required=True,
    )
    note = validation.text(note, field="note", label="Note", max_length=2000, required=False)
    with transaction.atomic():
        current = people.lock(person)
        require_acting_in(by, current.place_id)
        if current.consent_state == ConsentState.WITHDRAWN:
            raise ValidationError("Consent is already recorded as withdrawn")
        withdrawn_on = _check_day(
            withdrawn_on, current, field="withdrawn_on", label="date consent was withdrawn"
        )
        withdrawal = Withdrawal.objects.create(
            person=current,
            place_id=current.place_id,
            withdrawn_on=withdrawn_on,
            withdrawn_by=withdrawn_by,
            note=note,
            recorded_by=by.actor,
            recorded_by_label=by.actor_label or getattr(by.actor, "email", ""),
        )
        before = current.consent_state
        people.keep_consent_picture(person=current, state=ConsentState.WITHDRAWN, reconfirm_by=None)
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=withdrawal,
            person_id=current.pk,
            place_id=current.place_id,
            changes={
                "consent_state": [before or None, ConsentState.WITHDRAWN],
                "withdrawn_on": [None, withdrawn_on],
            },
        )
    person.consent_state, person.consent_reconfirm_by = ConsentState.WITHDRAWN, None
    return withdrawal


def transfer_history(person: Person) -> dict[str, Any]:
    """What a transfer carries of consent: each consent given, oldest first (the receiving
    place records its own consent; this is the evidence so far)."""
    consents = Consent.objects.filter(person=person).order_by("given_on", "id")
    return {
        "consents": [
            {
                "given_by": c.get_given_by_display(),
                "consenter": c.consenter,
                "basis": c.get_basis_display(),
                "on": c.given_on.isoformat(),
                "evidence": c.get_evidence_display(),
            }
            for c in consents.prefetch_related("share_with")
        ]
    }
