"""Asking for, arranging, holding and reporting C(E)TRs; their recommendations.

Each operation locks the person's row first, then the review's, validates everything it is
given, and writes its audit event (and what it sets in motion: the Red task completed, the
stay's next C(E)TR due) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from dsr.actions import services as actions
from dsr.actions.models import ActionSource, ActionStatus
from dsr.core import audit, dates, validation
from dsr.core.access import require_acting_in
from dsr.core.models import AuditAction, StaleVersion
from dsr.hospital import services as hospital
from dsr.people import services as people
from dsr.people.choices import EHCPlan
from dsr.people.models import Person
from dsr.places.models import Organisation
from dsr.reviews.models import (
    HELD,
    IN_HOSPITAL_KINDS,
    Cetr,
    CetrKind,
    CetrStatus,
    ConsentBasis,
    Recommendation,
    ReviewType,
)
from dsr.risk.rules import COMMUNITY_CETR

# The task a Red rating opens (dsr/risk/rules.py `red_requires_community_cetr`).
COMMUNITY_TASK = COMMUNITY_CETR
# What can be arranged before a review is held: its date, panel, attendees and consent.
DETAIL_FIELDS = (
    "scheduled_for",
    "chair",
    "clinical_expert",
    "expert_by_experience",
    "other_panel",
    "attendees",
    "consent_basis",
    "consent_given_by",
    "consent_on",
)
# The panel a C(E)TR needs (DOMAIN.md): its roles, as the form names them.
PANEL_ROLES = {
    "chair": "Chair",
    "clinical_expert": "Clinical expert",
    "expert_by_experience": "Expert by experience",
}
NOT_LIVE = "This C(E)TR is no longer waiting to be held: it is {status}"


def review_type_for(person: Person, on: date) -> str:
    """DOMAIN.md: a CETR (with education) for under-18s and for young adults up to 25 with
    an EHC plan; a CTR for other adults."""
    policy = person.place.settings
    age = person.age_on(on)
    if age < policy.adult_age:
        return ReviewType.CETR
    if age < policy.register_max_age and person.ehc_plan == EHCPlan.YES:
        return ReviewType.CETR
    return ReviewType.CTR


def _lock(cetr: Cetr, by: audit.Context, expected_version: int | None) -> tuple[Person, Cetr]:
    """The person's row (open, in the acting place), then the review's, at its version."""
    current = people.lock_open(cetr.person_id, by)
    review = Cetr.objects.select_for_update().get(pk=cetr.pk)
    require_acting_in(by, review.place_id)
    if expected_version is not None and review.version != expected_version:
        raise StaleVersion()
    return current, review


def _live(review: Cetr) -> None:
    if not review.is_live:
        raise ValidationError(NOT_LIVE.format(status=review.get_status_display().lower()))


def _record(by: audit.Context, review: Cetr, action: str, changes: dict[str, Any]) -> None:
    audit.record(
        context=by,
        action=action,
        obj=review,
        person_id=review.person_id,
        place_id=review.place_id,
        changes=changes,
    )


def request_cetr(
    *,
    person: Person,
    kind: str,
    requested_on: date,
    by: audit.Context,
    reason: str = "",
) -> Cetr:
    """Ask for a C(E)TR (or record a LAEP meeting being called). A community C(E)TR takes
    on the task a Red rating opened; a review of a stay names the stay."""
    validation.one_of(kind, CetrKind, field="kind", message="Select what kind of review")
    validation.a_past_date(requested_on, field="requested_on", label="date requested")
    reason = validation.text(
        reason, field="reason", label="Why it is needed", max_length=2000, required=False
    )
    with transaction.atomic():
        current = people.lock_open(person, by)
        if requested_on < current.date_of_birth:
            raise ValidationError(
                {"requested_on": "The date requested cannot be before the date of birth"}
            )
        stay = hospital.current_admission(current)
        if kind in IN_HOSPITAL_KINDS and stay is None:
            raise ValidationError(
                {
                    "kind": f"{current.full_name} is not in hospital: a post-admission or "
                    "inpatient C(E)TR reviews a stay. Ask for a community C(E)TR instead"
                }
            )
        if kind == CetrKind.COMMUNITY and stay is not None:
            raise ValidationError(
                {
                    "kind": f"{current.full_name} is in hospital: ask for a post-admission or "
                    "inpatient C(E)TR instead"
                }
            )
        if stay is not None and kind in IN_HOSPITAL_KINDS and requested_on < stay.admitted_on:
            raise ValidationError(
                {
                    "requested_on": "A review of this stay cannot be requested before the "
                    f"admission ({stay.admitted_on:%-d %B %Y})"
                }
            )
        already = Cetr.objects.live().filter(person=current, kind=kind).first()
        if already is not None:
            raise ValidationError(
                {
                    "kind": f"A {already.get_kind_display()} is already "
                    f"{already.get_status_display().lower()} for {current.full_name}: "
                    "hold or cancel that one first"
                }
            )
        task = None
        if kind == CetrKind.COMMUNITY:
            taken = set(
                Cetr.objects.exclude(status=CetrStatus.CANCELLED)
                .filter(person=current, task__isnull=False)
                .values_list("task_id", flat=True)
            )
            free = [
                a
                for a in actions.open_rule_actions(person=current, rule_key=COMMUNITY_TASK)
                if a.pk not in taken
            ]
            task = free[0] if free else None
        review = Cetr.objects.create(
            person=current,
            place_id=current.place_id,
            kind=kind,
            review_type="" if kind == CetrKind.LAEP else review_type_for(current, requested_on),
            admission=stay if kind in IN_HOSPITAL_KINDS else None,
            task=task,
            reason=reason,
            requested_on=requested_on,
            requested_by=by.actor,
        )
        _record(
            by,
            review,
            AuditAction.CREATED,
            {
                "kind": [None, kind],
                "requested_on": [None, requested_on],
                "task": [None, task.pk if task else None],
            },
        )
    return review


def _clean_details(data: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = validation.clean_fields(Cetr, data, allowed=DETAIL_FIELDS, required=False)
    errors: dict[str, str] = {}
    basis = cleaned.get("consent_basis", "")
    if basis:
        if not cleaned.get("consent_given_by"):
            errors["consent_given_by"] = "Enter who consented, or who made the decision"
        if cleaned.get("consent_on") is None:
            errors["consent_on"] = "Enter the date of consent or the decision"
        elif cleaned["consent_on"] > dates.today():
            errors["consent_on"] = "The date of consent or decision must be today or in the past"
    elif cleaned.get("consent_given_by") or cleaned.get("consent_on"):
        errors["consent_basis"] = "Select who consented, or that a best-interests decision was made"
    if errors:
        raise ValidationError(errors)
    return cleaned


def update_cetr(
    *, cetr: Cetr, data: Mapping[str, Any], expected_version: int, by: audit.Context
) -> Cetr:
    """Arrange a review before it is held: its date (which schedules it), its panel and
    attendees, and consent for it."""
    cleaned = _clean_details(data)
    with transaction.atomic():
        current, review = _lock(cetr, by, expected_version)
        _live(review)
        day = cleaned.get("scheduled_for", review.scheduled_for)
        if day is None and review.scheduled_for is not None:
            raise ValidationError(
                {"scheduled_for": "Enter the date of the review: a scheduled review keeps one"}
            )
        if day is not None and day < review.requested_on:
            raise ValidationError(
                {
                    "scheduled_for": "The date of the review cannot be before it was requested "
                    f"({review.requested_on:%-d %B %Y})"
                }
            )
        consent_on = cleaned.get("consent_on")
        if consent_on is not None and consent_on < current.date_of_birth:
            raise ValidationError(
                {"consent_on": "The date of consent cannot be before the date of birth"}
            )
        basis = cleaned.get("consent_basis")
        if (
            basis == ConsentBasis.PARENTAL_RESPONSIBILITY
            and consent_on is not None
            and current.age_on(consent_on) >= current.place.settings.adult_age
        ):
            raise ValidationError(
                {
                    "consent_basis": f"{current.full_name} was an adult on that date: a person "
                    "with parental responsibility cannot consent for them. Record their own "
                    "consent, or a best-interests decision"
                }
            )
        values = {name: value for name, value in cleaned.items() if getattr(review, name) != value}
        if day is not None:
            values["status"] = CetrStatus.SCHEDULED
            if review.kind != CetrKind.LAEP:
                values["review_type"] = review_type_for(current, day)
        values = {k: v for k, v in values.items() if getattr(review, k) != v}
        if not values:
            return review
        changes = {k: [getattr(review, k), v] for k, v in values.items()}
        review.save_if_current(expected_version, **values)
        _record(
            by,
            review,
            AuditAction.CHANGED,
            {
                **{k: v for k, v in changes.items() if not k.startswith("consent_given")},
                "version": [expected_version, review.version],
            },
        )
    return review


def hold_cetr(
    *, cetr: Cetr, held_on: date, summary: str, expected_version: int, by: audit.Context
) -> Cetr:
    """Record that the review took place. Refused without consent (or a best-interests
    decision) dated on or before it, or without its panel. Holding a community C(E)TR
    completes the task the Red rating opened; holding a review of a stay sets the next."""
    validation.a_past_date(held_on, field="held_on", label="date held")
    summary = validation.text(
        summary, field="summary", label="Outcome", max_length=8000, required=True
    )
    with transaction.atomic():
        current, review = _lock(cetr, by, expected_version)
        _live(review)
        if held_on < review.requested_on:
            raise ValidationError(
                {
                    "held_on": "The date held cannot be before it was requested "
                    f"({review.requested_on:%-d %B %Y})"
                }
            )
        if review.counts:
            _check_consent(review, held_on)
            missing = [
                PANEL_ROLES[role].lower() for role in PANEL_ROLES if not getattr(review, role)
            ]
            if missing:
                raise ValidationError(
                    "Record the panel before the C(E)TR is marked held: the "
                    + ", the ".join(missing)
                )
        stay = review.admission
        if stay is not None and (
            held_on < stay.admitted_on or (stay.discharged_on and held_on > stay.discharged_on)
        ):
            raise ValidationError(
                {
                    "held_on": "A review of a stay must be held during it "
                    f"(from {stay.admitted_on:%-d %B %Y})"
                }
            )
        policy = current.place.settings
        values: dict[str, Any] = {
            "status": CetrStatus.HELD,
            "held_on": held_on,
            "summary": summary,
            # DOMAIN.md: the report reaches attendees within 14 days (a setting); a LAEP
            # meeting is not a C(E)TR and owes none.
            "report_due": (
                held_on + timedelta(days=policy.cetr_report_days) if review.counts else None
            ),
        }
        if review.kind != CetrKind.LAEP:
            values["review_type"] = review_type_for(current, held_on)
        previous = review.status
        review.save_if_current(expected_version, **values)
        _record(
            by,
            review,
            AuditAction.CHANGED,
            {
                "status": [previous, "held"],
                "held_on": [None, held_on],
                "version": [expected_version, review.version],
            },
        )
        if review.kind == CetrKind.COMMUNITY:
            _complete_task(review, by)
            hospital.note_community_cetr(person=current, held_on=held_on)
        elif stay is not None:
            hospital.note_cetr_held(person=current, admission=stay, held_on=held_on)
    return review


def _check_consent(review: Cetr, held_on: date) -> None:
    if not review.consent_basis or review.consent_on is None:
        raise ValidationError(
            "Record consent for this review, or a best-interests decision, before it is "
            "marked held: without it the panel may not read the papers"
        )
    if review.consent_on > held_on:
        raise ValidationError(
            {
                "held_on": f"Consent was recorded on {review.consent_on:%-d %B %Y}, after this "
                "date: consent must come before the review"
            }
        )


def _complete_task(review: Cetr, by: audit.Context) -> None:
    """The Red rating's task is done: the C(E)TR it asked for was held."""
    if review.task_id is None:
        return
    for action in actions.open_rule_actions(person=review.person, rule_key=COMMUNITY_TASK):
        if action.pk != review.task_id:
            continue
        actions.update_action(
            action=action,
            status=ActionStatus.DONE,
            note=f"Community C(E)TR held on {review.held_on:%-d %B %Y}",
            expected_version=action.version,
            by=by,
        )


def issue_report(*, cetr: Cetr, issued_on: date, expected_version: int, by: audit.Context) -> Cetr:
    """The report has gone to the attendees (DOMAIN.md: within 14 days, a setting)."""
    validation.a_past_date(issued_on, field="report_issued_on", label="date the report was issued")
    with transaction.atomic():
        _current, review = _lock(cetr, by, expected_version)
        if review.status != CetrStatus.HELD or not review.counts:
            raise ValidationError("A report is issued once a C(E)TR has been held, and only once")
        if issued_on < review.held_on:  # type: ignore[operator]
            raise ValidationError(
                {
                    "report_issued_on": "The report cannot be dated before the review "
                    f"({review.held_on:%-d %B %Y})"
                }
            )
        review.save_if_current(
            expected_version, status=CetrStatus.REPORT_ISSUED, report_issued_on=issued_on
        )
        _record(
            by,
            review,
            AuditAction.CHANGED,
            {
                "status": ["held", "report_issued"],
                "report_issued_on": [None, issued_on],
                "version": [expected_version, review.version],
            },
        )
    return review


def cancel_cetr(*, cetr: Cetr, reason: str, expected_version: int, by: audit.Context) -> Cetr:
    """Cancel a review not yet held, with a reason. Its task, if any, goes back to waiting
    for a C(E)TR."""
    reason = validation.text(
        reason, field="cancel_reason", label="Why it was cancelled", max_length=2000, required=False
    )
    if not reason:
        raise ValidationError({"cancel_reason": "Enter why it was cancelled"})
    with transaction.atomic():
        _current, review = _lock(cetr, by, expected_version)
        _live(review)
        previous = review.status
        review.save_if_current(
            expected_version,
            status=CetrStatus.CANCELLED,
            cancelled_on=dates.today(),
            cancel_reason=reason,
        )
        _record(
            by,
            review,
            AuditAction.CHANGED,
            {"status": [previous, "cancelled"], "version": [expected_version, review.version]},
        )
    return review


def add_recommendation(
    *,
    cetr: Cetr,
    description: str,
    due_on: date,
    by: audit.Context,
    owner_user: Any = None,
    owner_name: str = "",
    owner_organisation: Organisation | None = None,
) -> Recommendation:
    """A recommendation of a held review: a shared action with a named owner and a due date,
    tracked to done; overdue ones go to the coordinator (work/cetrs.py)."""
    with transaction.atomic():
        _current, review = _lock(cetr, by, None)
        if review.status not in HELD:
            raise ValidationError("Recommendations are recorded once the review has been held")
        validation.a_date(due_on, field="due_on", label="due date")
        if due_on < review.held_on:  # type: ignore[operator]
            raise ValidationError(
                {"due_on": f"The due date cannot be before the review ({review.held_on:%-d %B %Y})"}
            )
        action = actions.open_action(
            person=review.person,
            description=description,
            due_on=due_on,
            source=ActionSource.CETR,
            source_ref=f"cetr:{review.pk}",
            owner_user=owner_user,
            owner_name=owner_name,
            owner_organisation=owner_organisation,
            by=by,
        )
        try:
            with transaction.atomic():
                link = Recommendation.objects.create(cetr=review, action=action)
        except IntegrityError as error:  # pragma: no cover - a new action is never linked
            raise ValidationError("This action is already a recommendation") from error
        _record(by, review, AuditAction.CHANGED, {"recommendation": [None, action.pk]})
    return link


# --- What hospital asks of reviews (registered in ReviewsConfig.ready) -------------------


def community_cetr_held(person: Person, after: date | None, before: date) -> bool:
    """Whether a community C(E)TR was held for the person in (after, before]: did one
    precede this admission (hospital/services.py asks, ADR 0023)?"""
    held = Cetr.objects.filter(
        person=person, kind=CetrKind.COMMUNITY, status__in=HELD, held_on__lte=before
    )
    if after is not None:
        held = held.filter(held_on__gt=after)
    return held.exists()


def earliest_record(person: Person) -> date | None:
    """The first C(E)TR asked for: a date of birth cannot move after it."""
    return (
        Cetr.objects.filter(person=person)
        .order_by("requested_on")
        .values_list("requested_on", flat=True)
        .first()
    )
