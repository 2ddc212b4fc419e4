"""Rating, reviewing and logging significant events (DESIGN.md principle 3).

This module works on a person object it is given; it does not import the people app
(ADR 0007). Each operation is one transaction, with its audit events and the actions
and signals it sets in motion.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from dsr.actions import services as actions
from dsr.actions.models import ActionSource
from dsr.core import audit, dates
from dsr.core.models import AuditAction
from dsr.risk import rules
from dsr.risk.models import (
    DEFAULT_RISK_FACTORS,
    Rating,
    RatingContext,
    Review,
    RiskFactor,
    RiskRating,
    Signal,
    SignificantEvent,
)

if TYPE_CHECKING:
    from dsr.people.models import Person


def _check_day(day: date, person: Person, what: str) -> None:
    if day > dates.today():
        raise ValidationError(f"The {what} must be today or in the past")
    if day < person.date_of_birth:
        raise ValidationError(f"The {what} cannot be before the person's date of birth")


def _set_person_risk(person: Person, **values: Any) -> None:
    """Keep the register's copy of the current risk picture (ADR 0007)."""
    type(person).objects.filter(pk=person.pk).update(**values)
    for name, value in values.items():
        setattr(person, name, value)


def rate(
    *,
    person: Person,
    rating: str,
    rationale: str,
    by: audit.Context,
    decided_on: date | None = None,
    factors: Iterable[RiskFactor] = (),
    context: str = RatingContext.OTHER,
) -> Rating:
    """Record a dated rating decision and set in motion what it calls for."""
    decided_on = decided_on or dates.today()
    if rating not in RiskRating.values:
        raise ValidationError({"rating": "Select a rating"})
    if not rationale or not rationale.strip():
        raise ValidationError({"rationale": "Enter the reason for this rating"})
    _check_day(decided_on, person, "date of the decision")
    if person.rated_on and decided_on < person.rated_on:
        raise ValidationError(
            f"A rating cannot be dated before the current one ({person.rated_on:%-d %B %Y})"
        )
    factors = list(factors)
    if any(f.place_id != person.place_id for f in factors):
        raise ValidationError({"factors": "Choose risk factors from this place's list"})
    policy = person.place.settings
    with transaction.atomic():
        decision = Rating.objects.create(
            person=person,
            rating=rating,
            decided_on=decided_on,
            rationale=rationale.strip(),
            context=context,
            decided_by=by.actor,
            decided_by_label=by.actor_label or getattr(by.actor, "email", ""),
            review_due=rules.review_due(policy, rating, decided_on),
        )
        decision.factors.set(factors)
        previous = person.current_rating
        Signal.objects.filter(person=person, cleared_by__isnull=True).update(cleared_by=decision)
        _set_person_risk(
            person,
            current_rating=rating,
            rated_on=decided_on,
            review_due=decision.review_due,
            review_now=False,
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=decision,
            person_id=person.pk,
            place_id=person.place_id,
            changes={"rating": [previous or None, rating], "context": [None, context]},
        )
        facts = rules.RatingFacts(
            rating=rating, decided_on=decided_on, age=person.age_on(decided_on)
        )
        for prompt in rules.prompts_for(policy, facts):
            if actions.has_open_rule_action(person=person, rule_key=prompt.key):
                continue
            actions.open_action(
                person=person,
                description=prompt.description,
                due_on=prompt.due_on,
                source=ActionSource.RATING,
                source_ref=f"rating:{decision.pk}",
                rule_key=prompt.key,
                owner_user=by.actor,
                owner_name="" if by.actor else "DSR coordinator",
                by=by,
            )
    return decision


@dataclass(frozen=True)
class AgreedAction:
    description: str
    due_on: date
    owner_user: Any = None
    owner_name: str = ""


def record_review(
    *,
    person: Person,
    held_on: date,
    participants: str,
    summary: str,
    rating: str,
    rationale: str,
    by: audit.Context,
    factors: Iterable[RiskFactor] = (),
    agreed: Sequence[AgreedAction] = (),
) -> Review:
    """A review confirms or changes the rating and agrees actions, all at once."""
    _check_day(held_on, person, "review date")
    if not participants.strip():
        raise ValidationError({"participants": "Enter who took part"})
    if not summary.strip():
        raise ValidationError({"summary": "Enter a summary of the review"})
    with transaction.atomic():
        decision = rate(
            person=person,
            rating=rating,
            rationale=rationale,
            decided_on=held_on,
            factors=factors,
            context=RatingContext.REVIEW,
            by=by,
        )
        review = Review.objects.create(
            person=person,
            held_on=held_on,
            participants=participants.strip(),
            summary=summary.strip(),
            rating=decision,
            recorded_by=by.actor,
        )
        for item in agreed:
            actions.open_action(
                person=person,
                description=item.description,
                due_on=item.due_on,
                source=ActionSource.REVIEW,
                source_ref=f"review:{review.pk}",
                owner_user=item.owner_user,
                owner_name=item.owner_name,
                by=by,
            )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=review,
            person_id=person.pk,
            place_id=person.place_id,
        )
    return review


def log_event(
    *,
    person: Person,
    kind: str,
    occurred_on: date,
    description: str,
    by: audit.Context,
) -> SignificantEvent:
    """Log a significant event; the signal rules may flag "review now"."""
    _check_day(occurred_on, person, "date of the event")
    with transaction.atomic():
        event = SignificantEvent.objects.create(
            person=person,
            kind=kind,
            occurred_on=occurred_on,
            description=description.strip(),
            recorded_by=by.actor,
            recorded_by_label=by.actor_label or getattr(by.actor, "email", ""),
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=event,
            person_id=person.pk,
            place_id=person.place_id,
            changes={"kind": [None, kind], "occurred_on": [None, occurred_on]},
        )
        raise_signals(person=person, by=by)
    return event


def raise_signals(*, person: Person, by: audit.Context) -> list[Signal]:
    """Run the signal rules over the person's recent events; open a signal per new finding."""
    policy = person.place.settings
    today = dates.today()
    since = today - timedelta(days=policy.signal_window_days)
    recent = [
        rules.EventFact(kind=kind, occurred_on=day)
        for kind, day in SignificantEvent.objects.filter(
            person=person, occurred_on__gte=since
        ).values_list("kind", "occurred_on")
    ]
    open_rules = set(
        Signal.objects.filter(person=person, cleared_by__isnull=True).values_list("rule", flat=True)
    )
    raised = []
    for finding in rules.findings_for(policy, person.current_rating, recent, today):
        if finding.rule in open_rules:
            continue
        signal = Signal.objects.create(
            person=person,
            place_id=person.place_id,
            rule=finding.rule,
            fired_on=today,
            explanation=finding.explanation,
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=signal,
            person_id=person.pk,
            place_id=person.place_id,
            changes={"rule": [None, finding.rule]},
        )
        raised.append(signal)
    if raised:
        _set_person_risk(person, review_now=True)
    return raised


def seed_risk_factors(*, place: Any) -> None:
    """Every place starts with DOMAIN.md's checklist; places may edit it later."""
    if RiskFactor.objects.filter(place=place).exists():
        return
    RiskFactor.objects.bulk_create(
        RiskFactor(place=place, label=label, position=i)
        for i, label in enumerate(DEFAULT_RISK_FACTORS)
    )
