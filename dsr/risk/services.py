"""Rating, reviewing and logging significant events (DESIGN.md principle 3).

Each operation is one transaction that locks the person's row first, validates everything
it is given, and writes its audit events and the actions and signals it sets in motion.
The lock makes concurrent ratings queue, so the register's copy of the current rating
always agrees with the history (ADR 0007).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from dsr.actions import services as actions
from dsr.actions.models import Action, ActionSource, ActionStatus
from dsr.core import audit, dates, validation
from dsr.core.models import AuditAction
from dsr.people import services as people
from dsr.people.models import Person
from dsr.places.services import refusals_audited, require_administers
from dsr.risk import rules
from dsr.risk.models import (
    DEFAULT_RISK_FACTORS,
    EventKind,
    Rating,
    RatingContext,
    RatingFactor,
    Review,
    RiskFactor,
    RiskRating,
    Signal,
    SignificantEvent,
)


def _check_day(day: Any, person: Person, *, field: str, what: str) -> date:
    day = validation.a_past_date(day, field=field, label=what)
    if day < person.date_of_birth:
        raise ValidationError({field: f"The {what} cannot be before the person's date of birth"})
    return day


def _factors(factors: Iterable[Any], person: Person) -> list[RiskFactor]:
    """The factors as the database holds them now: this place's, and still in use."""
    message = "Choose risk factors from this place's list"
    chosen = validation.each_a(factors, RiskFactor, field="factors", message=message)
    wrong = ValidationError({"factors": message})
    found = list(
        RiskFactor.objects.filter(
            pk__in=[f.pk for f in chosen], place_id=person.place_id, is_active=True
        )
    )
    if len(found) != len({f.pk for f in chosen}):
        raise wrong
    return found


# Checks that apps above risk hold a rating to (an inpatient stays Blue; a discharge keeps
# the person Red for N days): each is given the locked person, the rating and its date, and
# raises ValidationError to refuse it. Registered from their AppConfig.ready() (ADR 0022):
# risk imports none of them.
RatingGuard = Callable[[Person, str, date], None]
RATING_GUARDS: list[RatingGuard] = []


def register_rating_guard(guard: RatingGuard) -> None:
    if guard not in RATING_GUARDS:
        RATING_GUARDS.append(guard)


def rate(
    *,
    person: Person,
    rating: str,
    rationale: str,
    by: audit.Context,
    decided_on: date | None = None,
    factors: Iterable[RiskFactor] = (),
    context: str = RatingContext.OTHER,
    review_due: date | None = None,
    seen: Iterable[int] | None = None,
) -> Rating:
    """Record a dated rating decision and set in motion what it calls for. The next review
    falls due by the place's interval for the rating, unless the decision names its own
    date (a tracker meeting agrees when it will look again).

    A decision clears the early warnings flagged on or before its date; one flagged later
    stays open, and so does "review now". `seen`: the warnings the page showed whoever
    decided (their ids). One flagged since, which the decision would clear, refuses it:
    nobody clears a crisis they were never shown (a review found a rating form opened
    before a crisis was logged clearing it). None: a caller that shows none."""
    validation.one_of(rating, RiskRating, field="rating", message="Select a rating")
    validation.one_of(
        context, RatingContext, field="context", message="Select where this was decided"
    )
    rationale = validation.text(
        rationale, field="rationale", label="Why this rating", max_length=4000, required=False
    )
    if not rationale:
        raise ValidationError({"rationale": "Enter the reason for this rating"})
    if seen is not None:
        seen = validation.each_a(seen, int, field="rating", message="Reload the page")
    with transaction.atomic():
        current = people.lock_open(person, by)
        decided_on = _check_day(
            dates.today() if decided_on is None else decided_on,
            current,
            field="decided_on",
            what="date of the decision",
        )
        if current.rated_on and decided_on < current.rated_on:
            raise ValidationError(
                {
                    "decided_on": "A rating cannot be dated before the current one "
                    f"({current.rated_on:%-d %B %Y})"
                }
            )
        for guard in RATING_GUARDS:
            guard(current, rating, decided_on)
        chosen = _factors(factors, current)
        policy = current.place.settings
        if review_due is not None:
            review_due = validation.a_date(review_due, field="review_due", label="next review")
            if review_due < decided_on:
                raise ValidationError(
                    {"review_due": "The next review cannot be before the date of the decision"}
                )
        clears = Signal.objects.open().filter(person=current, fired_on__lte=decided_on)
        if seen is not None:
            _refuse_unseen(clears.exclude(pk__in=seen))
        decision = Rating.objects.create(
            person=current,
            rating=rating,
            decided_on=decided_on,
            rationale=rationale,
            context=context,
            decided_by=by.actor,
            decided_by_label=by.actor_label or getattr(by.actor, "email", ""),
            review_due=review_due or rules.review_due(policy, rating, decided_on),
        )
        decision.factors.set(chosen)
        previous = current.current_rating
        clears.update(cleared_by=decision)
        people.keep_risk_picture(
            person=current,
            current_rating=rating,
            rated_on=decided_on,
            review_due=decision.review_due,
            review_now=Signal.objects.open().filter(person=current).exists(),
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=decision,
            person_id=current.pk,
            place_id=current.place_id,
            changes={"rating": [previous or None, rating], "context": [None, context]},
        )
        facts = rules.RatingFacts(
            rating=rating, decided_on=decided_on, age=current.age_on(decided_on), context=context
        )
        for prompt in rules.prompts_for(policy, facts):
            if actions.has_open_rule_action(person=current, rule_key=prompt.key):
                continue
            actions.open_action(
                person=current,
                description=prompt.description,
                due_on=prompt.due_on,
                source=ActionSource.RATING,
                source_ref=f"rating:{decision.pk}",
                rule_key=prompt.key,
                owner_user=by.actor,
                owner_name="" if by.actor else "DSR coordinator",
                by=by,
            )
    for name in ("current_rating", "rated_on", "review_due", "review_now"):
        setattr(person, name, getattr(current, name))
    return decision


def _refuse_unseen(unseen: Any) -> None:
    flagged = list(unseen.order_by("fired_on", "id").values_list("explanation", flat=True))
    if flagged:
        one = len(flagged) == 1
        raise ValidationError(
            f"Since this page was opened, {'a concern was' if one else 'concerns were'} flagged:"
            f" {'; '.join(flagged)}. Read {'it' if one else 'them'} below, then record the"
            " rating again"
        )


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
    seen: Iterable[int] | None = None,
) -> Review:
    """A review confirms or changes the rating and agrees actions, all at once (`seen`: as
    `rate` takes it)."""
    participants = validation.text(
        participants, field="participants", label="Who took part", max_length=2000, required=True
    )
    summary = validation.text(
        summary, field="summary", label="Summary", max_length=8000, required=True
    )
    with transaction.atomic():
        current = people.lock_open(person, by)
        held_on = _check_day(held_on, current, field="held_on", what="date of the review")
        decision = rate(
            person=current,
            rating=rating,
            rationale=rationale,
            decided_on=held_on,
            factors=factors,
            context=RatingContext.REVIEW,
            by=by,
            seen=seen,
        )
        review = Review.objects.create(
            person=current,
            held_on=held_on,
            participants=participants,
            summary=summary,
            rating=decision,
            recorded_by=by.actor,
        )
        for item in agreed:
            actions.open_action(
                person=current,
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
            person_id=current.pk,
            place_id=current.place_id,
        )
    for name in ("current_rating", "rated_on", "review_due", "review_now"):
        setattr(person, name, getattr(current, name))
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
    validation.one_of(kind, EventKind, field="kind", message="Select what happened")
    description = validation.text(
        description, field="description", label="Details", max_length=2000, required=False
    )
    with transaction.atomic():
        current = people.lock_open(person, by)
        occurred_on = _check_day(occurred_on, current, field="occurred_on", what="date it happened")
        event = SignificantEvent.objects.create(
            person=current,
            kind=kind,
            occurred_on=occurred_on,
            description=description,
            recorded_by=by.actor,
            recorded_by_label=by.actor_label or getattr(by.actor, "email", ""),
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=event,
            person_id=current.pk,
            place_id=current.place_id,
            changes={"kind": [None, kind], "occurred_on": [None, occurred_on]},
        )
        raise_signals(person=current, by=by)
    person.review_now = current.review_now
    return event


def raise_signals(*, person: Person, by: audit.Context) -> list[Signal]:
    """Run the signal rules over the person's recent events; open a signal per new finding.

    Called inside an operation that holds the person's lock.
    """
    policy = person.place.settings
    today = dates.today()
    since = today - timedelta(days=policy.signal_window_days)
    recent = [
        rules.EventFact(kind=kind, occurred_on=day)
        for kind, day in SignificantEvent.objects.filter(
            person=person, occurred_on__gte=since
        ).values_list("kind", "occurred_on")
    ]
    open_rules = set(Signal.objects.open().filter(person=person).values_list("rule", flat=True))
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
        people.keep_risk_picture(person=person, review_now=True)
    return raised


def current_facts(person: Person) -> rules.RatingFacts | None:
    """The facts the current rating was decided on, which its prompts follow from."""
    if not person.current_rating or person.rated_on is None:
        return None
    return rules.RatingFacts(
        rating=person.current_rating,
        decided_on=person.rated_on,
        age=person.age_on(person.rated_on),
    )


def prompts_no_longer_applying(person: Person, prompts: Iterable[Action]) -> list[Action]:
    """Of a person's open actions, the rating prompts their current rating no longer calls
    for: offered for closing, never closed silently (issue 10, part 7)."""
    facts = current_facts(person)
    chosen = [a for a in prompts if a.source == ActionSource.RATING and a.rule_key]
    if facts is None:
        return []
    stale = rules.no_longer_apply(person.place.settings, facts, {a.rule_key for a in chosen})
    return [a for a in chosen if a.rule_key in stale and a.status == ActionStatus.OPEN]


def close_prompt(
    *, action: Action, reason: str, expected_version: int, by: audit.Context
) -> Action:
    """Close a rating's prompt that no longer applies, with the reason: one click, and the
    reason is kept in the action's history."""
    reason = validation.text(reason, field="reason", label="Reason", max_length=1900, required=True)
    with transaction.atomic():
        current = people.lock_open(action.person_id, by)
        if not prompts_no_longer_applying(current, [action]):
            raise ValidationError(
                "This prompt still applies to the current rating, or is already closed"
            )
        return actions.update_action(
            action=action,
            status=ActionStatus.CANCELLED,
            note=f"No longer applies after the rating changed: {reason}",
            expected_version=expected_version,
            by=by,
        )


def earliest_record(person: Person) -> date | None:
    """The first day anything about the person was dated here: a rating, a review or an
    event (a date of birth cannot move after it; people.services asks)."""
    days = [
        Rating.objects.filter(person=person)
        .order_by("decided_on")
        .values_list("decided_on", flat=True)[:1],
        SignificantEvent.objects.filter(person=person)
        .order_by("occurred_on")
        .values_list("occurred_on", flat=True)[:1],
    ]
    found = [day for query in days for day in query]
    return min(found) if found else None


def seed_risk_factors(*, place: Any) -> None:
    """Every place starts with DOMAIN.md's checklist; places may edit it later."""
    if RiskFactor.objects.filter(place=place).exists():
        return
    RiskFactor.objects.bulk_create(
        RiskFactor(place=place, label=label, position=i)
        for i, label in enumerate(DEFAULT_RISK_FACTORS)
    )


def transfer_history(person: Person) -> dict[str, Any]:
    """What a transfer carries of risk: the rating history and significant events."""
    ratings = Rating.objects.filter(person=person).order_by("decided_on", "id")
    events = SignificantEvent.objects.filter(person=person).order_by("occurred_on", "id")
    return {
        "ratings": [
            {
                "rating": r.get_rating_display(),
                "on": r.decided_on.isoformat(),
                "rationale": r.rationale,
                "context": r.get_context_display(),
            }
            for r in ratings
        ],
        "events": [
            {"kind": e.get_kind_display(), "on": e.occurred_on.isoformat(), "what": e.description}
            for e in events
        ],
    }


# --- The place's risk-factor checklist (managed by its place admin, ADR 0015) -----------

FACTOR_USED = (
    "This factor informed ratings already made, so its wording stays as those ratings saw "
    "it. Retire it and add the new wording as a new factor"
)


def _factor_label(label: Any) -> str:
    return validation.text(label, field="label", label="Risk factor", max_length=200, required=True)


@refusals_audited("risk factor")
def add_risk_factor(*, place: Any, label: str, by: audit.Context) -> RiskFactor:
    """A new factor at the end of the place's checklist."""
    require_administers(by, place.pk)
    label = _factor_label(label)
    with transaction.atomic():
        last = RiskFactor.objects.filter(place=place).order_by("-position").first()
        factor = RiskFactor.objects.create(
            place=place, label=label, position=(last.position + 1) if last else 0
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=factor,
            place_id=place.pk,
            changes={"label": [None, label]},
        )
    return factor


@refusals_audited("risk factor")
def update_risk_factor(
    *, factor: RiskFactor, label: str, is_active: bool, by: audit.Context
) -> RiskFactor:
    """Correct a factor's wording (only while no rating has used it: a rating's factors are
    part of its history), or retire it from the checklist and bring it back."""
    require_administers(by, factor.place_id)
    label = _factor_label(label)
    if not isinstance(is_active, bool):
        raise ValidationError({"is_active": "Select whether the factor is still in use"})
    with transaction.atomic():
        current = RiskFactor.objects.select_for_update().get(pk=factor.pk)
        changes = {
            name: [getattr(current, name), value]
            for name, value in (("label", label), ("is_active", is_active))
            if getattr(current, name) != value
        }
        if not changes:
            return current
        if "label" in changes and RatingFactor.objects.filter(riskfactor=current).exists():
            raise ValidationError({"label": FACTOR_USED})
        for name, (_old, new) in changes.items():
            setattr(current, name, new)
        current.save(update_fields=list(changes))
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=current,
            place_id=current.place_id,
            changes=changes,
        )
    return current


def move_risk_factor(*, factor: RiskFactor, up: bool, by: audit.Context) -> RiskFactor:
    """Swap a factor with its neighbour on the checklist (the order ratings show it in)."""
    require_administers(by, factor.place_id)
    with transaction.atomic():
        factors = list(
            RiskFactor.objects.select_for_update()
            .filter(place_id=factor.place_id)
            .order_by("position", "id")
        )
        index = next(i for i, f in enumerate(factors) if f.pk == factor.pk)
        other = index - 1 if up else index + 1
        if not 0 <= other < len(factors):
            return factors[index]
        factors[index], factors[other] = factors[other], factors[index]
        for position, item in enumerate(factors):
            if item.position != position:
                item.position = position
                item.save(update_fields=["position"])
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=factor,
            place_id=factor.place_id,
            changes={"position": [index, other]},
        )
    return factors[other]
