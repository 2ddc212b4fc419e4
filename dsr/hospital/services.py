"""Admissions, discharges and oversight visits (DESIGN.md principle 3).

Each operation locks the person's row first (so two episodes cannot be opened at once, and
the rating it sets queues with any other), then the episode's, validates everything it is
given, and writes its audit events and the rating it calls for in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from dsr.core import audit, dates, validation
from dsr.core.access import Permission, role_has
from dsr.core.models import AuditAction, StaleVersion
from dsr.hospital import rules
from dsr.hospital.choices import DISCHARGE_DESTINATIONS
from dsr.hospital.models import Admission, OversightVisit
from dsr.people import services as people
from dsr.people.models import Person
from dsr.risk import services as risk
from dsr.risk.models import RatingContext, RiskRating

# What an episode records about the stay, beyond its dates and what is derived from them.
DETAIL_FIELDS = (
    "hospital",
    "provider",
    "provider_sector",
    "ward_type",
    "legal_status",
    "out_of_area",
    "on_register_before",
    "delayed_discharge",
    "delay_reason",
)
EDITABLE_FIELDS = (*DETAIL_FIELDS, "admitted_on", "distance_miles")
MAX_MILES = 2000  # further than any hospital in the UK is from anywhere in it
MILES_MESSAGE = f"Distance from home must be a whole number of miles from 0 to {MAX_MILES}"

ALREADY_DISCHARGED = "This stay has already ended: its discharge is recorded"


# Whether a community C(E)TR was held for the person in (after, before]: registered by
# dsr.reviews, which hospital does not import (ADR 0023). No lookup: none was.
CommunityCetrLookup = Callable[[Person, date | None, date], bool]
_community_cetr_lookups: list[CommunityCetrLookup] = []


def register_community_cetr_lookup(lookup: CommunityCetrLookup) -> None:
    if lookup not in _community_cetr_lookups:
        _community_cetr_lookups.append(lookup)


def _community_cetr_held(person: Person, after: date | None, before: date) -> bool:
    return any(lookup(person, after, before) for lookup in _community_cetr_lookups)


def _clean(data: Mapping[str, Any], *, required: bool) -> dict[str, Any]:
    """Every value checked as the admission form checks it."""
    candidate = dict(data)
    errors: dict[str, Any] = {}
    miles = candidate.pop("distance_miles", "absent")
    try:
        cleaned = validation.clean_fields(
            Admission,
            candidate,
            allowed=[f for f in EDITABLE_FIELDS if f != "distance_miles"],
            required=required,
        )
    except ValidationError as error:
        errors.update(error.error_dict)  # type: ignore[attr-defined]
        cleaned = {}
    if miles != "absent":
        if miles is not None and (
            isinstance(miles, bool) or not isinstance(miles, int) or not 0 <= miles <= MAX_MILES
        ):
            errors["distance_miles"] = [MILES_MESSAGE]
        else:
            cleaned["distance_miles"] = miles
    if cleaned.get("delayed_discharge") and not cleaned.get("delay_reason"):
        errors["delay_reason"] = ["Enter why the discharge is delayed"]
    if "delayed_discharge" in cleaned and not cleaned["delayed_discharge"]:
        cleaned["delay_reason"] = ""  # no longer delayed: no reason to keep showing
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_admitted_on(
    person: Person, admitted_on: date, *, episode: Admission | None = None
) -> None:
    """Admitted after birth, not in the future, and not during another stay. `episode`: the
    stay being corrected (its own end bounds it)."""
    validation.a_past_date(admitted_on, field="admitted_on", label="date admitted")
    if admitted_on < person.date_of_birth:
        raise ValidationError(
            {"admitted_on": "The date admitted cannot be before the person's date of birth"}
        )
    others = Admission.objects.filter(person=person)
    if episode is None:
        open_stay = others.current().first()
        if open_stay is not None:
            raise ValidationError(
                f"{person.full_name} is already in hospital (admitted to {open_stay.hospital} "
                f"on {open_stay.admitted_on:%-d %B %Y}). Record that discharge first"
            )
    else:
        others = others.exclude(pk=episode.pk)
    # Another stay overlaps this one if it ends after this one starts and starts before this
    # one ends (a new stay has no end yet). Leaving and coming back on one day is no overlap.
    overlapping = others.filter(Q(discharged_on__isnull=True) | Q(discharged_on__gt=admitted_on))
    if episode is not None and episode.discharged_on is not None:
        overlapping = overlapping.filter(admitted_on__lt=episode.discharged_on)
    clash = overlapping.order_by("admitted_on").first()
    if clash is not None:
        ended = (
            f"to {clash.discharged_on:%-d %B %Y}"
            if clash.discharged_on
            else "and not yet discharged"
        )
        raise ValidationError(
            {
                "admitted_on": "This admission overlaps the stay at "
                f"{clash.hospital} (admitted {clash.admitted_on:%-d %B %Y} {ended})"
            }
        )


def _previous_discharge(person: Person, before: date, *, exclude: int | None) -> date | None:
    earlier = Admission.objects.filter(person=person, discharged_on__lte=before)
    if exclude is not None:
        earlier = earlier.exclude(pk=exclude)
    return earlier.order_by("-discharged_on").values_list("discharged_on", flat=True).first()


def _last_visit(episode: Admission) -> date | None:
    return (
        OversightVisit.objects.filter(admission=episode)
        .order_by("-visited_on")
        .values_list("visited_on", flat=True)
        .first()
    )


def _due_values(episode: Admission, person: Person, last_visit: date | None) -> dict[str, Any]:
    """The open episode's next C(E)TR and visit, by the place's policy (hospital/rules.py)."""
    due = rules.due_for(
        person.place.settings,
        rules.Stay(
            born=person.date_of_birth,
            admitted_on=episode.admitted_on,
            secure=episode.is_secure,
            community_cetr_before=episode.community_cetr_before,
            last_cetr_on=episode.last_cetr_on,
            last_visit_on=last_visit,
        ),
    )
    return {"cetr_due": due.cetr_on, "cetr_due_kind": due.cetr_kind, "visit_due": due.visit_on}


def _keep_due(episode: Admission, person: Person) -> None:
    """Write the open episode's due dates. Not a versioned edit: they are derived, and an
    open edit form is not made stale by a visit or a C(E)TR (as ADR 0007's copy)."""
    if not episode.is_current:
        return
    values = _due_values(episode, person, _last_visit(episode))
    Admission.objects.filter(pk=episode.pk).update(**values)
    for name, value in values.items():
        setattr(episode, name, value)


def _rated_on_or_after(person: Person, day: date) -> date:
    """A rating is never dated before the current one: an admission recorded late is
    rated on the day of the latest rating."""
    return max(day, person.rated_on) if person.rated_on else day


def admit(*, person: Person, data: Mapping[str, Any], by: audit.Context) -> Admission:
    """Open an inpatient episode, and rate the person Blue (DOMAIN.md "Risk rating")."""
    cleaned = _clean(data, required=True)
    with transaction.atomic():
        current = people.lock_open(person, by)
        admitted_on = cleaned["admitted_on"]
        _check_admitted_on(current, admitted_on)
        before = _community_cetr_held(
            current, _previous_discharge(current, admitted_on, exclude=None), admitted_on
        )
        episode = Admission(
            person=current,
            place_id=current.place_id,
            recorded_by=by.actor,
            community_cetr_before=before,
            **cleaned,
        )
        for name, value in _due_values(episode, current, last_visit=None).items():
            setattr(episode, name, value)
        try:
            with transaction.atomic():
                episode.save()
        except IntegrityError as error:  # the one-open-episode index: a race lost
            raise ValidationError(f"{current.full_name} is already in hospital") from error
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=episode,
            person_id=current.pk,
            place_id=current.place_id,
            changes={
                "hospital": [None, episode.hospital],
                "ward_type": [None, episode.ward_type],
                "admitted_on": [None, admitted_on],
                "community_cetr_before": [None, before],
            },
        )
        risk.rate(
            person=current,
            rating=RiskRating.BLUE,
            rationale=f"Admitted to {episode.hospital} on {admitted_on:%-d %B %Y}",
            decided_on=_rated_on_or_after(current, admitted_on),
            context=RatingContext.ADMISSION,
            by=by,
        )
    _copy_risk(person, current)
    return episode


def _copy_risk(person: Person, current: Person) -> None:
    for name in ("current_rating", "rated_on", "review_due", "review_now"):
        setattr(person, name, getattr(current, name))


def _lock_episode(
    admission: Admission, by: audit.Context, expected_version: int | None = None
) -> tuple[Person, Admission]:
    """The person's row (open, in the acting place), then the episode's, at the version the
    caller loaded: the order every service here locks in."""
    current = people.lock_open(admission.person_id, by)
    episode = Admission.objects.select_for_update().get(pk=admission.pk)
    if expected_version is not None and episode.version != expected_version:
        raise StaleVersion()
    return current, episode


def update_admission(
    *,
    admission: Admission,
    data: Mapping[str, Any],
    expected_version: int,
    by: audit.Context,
) -> Admission:
    """Correct or update a stay: a move of ward, a new section, a delayed discharge."""
    cleaned = _clean(data, required=False)
    with transaction.atomic():
        current, episode = _lock_episode(admission, by, expected_version)
        changes = {
            name: [getattr(episode, name), value]
            for name, value in cleaned.items()
            if getattr(episode, name) != value
        }
        if not changes:
            return episode
        if "admitted_on" in changes:
            admitted_on = cleaned["admitted_on"]
            _check_admitted_on(current, admitted_on, episode=episode)
            _check_within_stay(episode, admitted_on, episode.discharged_on)
            previous = _previous_discharge(current, admitted_on, exclude=episode.pk)
            cleaned["community_cetr_before"] = _community_cetr_held(current, previous, admitted_on)
        episode.save_if_current(expected_version, **cleaned)
        _keep_due(episode, current)
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=episode,
            person_id=current.pk,
            place_id=current.place_id,
            changes={**changes, "version": [expected_version, episode.version]},
        )
    return episode


def _check_within_stay(episode: Admission, admitted_on: date, discharged_on: date | None) -> None:
    """What happened during the stay (visits, C(E)TRs, the discharge) stays after its start."""
    first_visit = (
        OversightVisit.objects.filter(admission=episode)
        .order_by("visited_on")
        .values_list("visited_on", flat=True)
        .first()
    )
    for what, day in (
        ("an oversight visit", first_visit),
        ("a C(E)TR", episode.last_cetr_on),
        ("the discharge", discharged_on),
    ):
        if day is not None and admitted_on > day:
            raise ValidationError(
                {"admitted_on": f"The date admitted must be on or before {what} ({day:%-d %B %Y})"}
            )


def discharge(
    *,
    admission: Admission,
    discharged_on: date,
    destination: str,
    expected_version: int,
    by: audit.Context,
) -> Admission:
    """End the stay, and rate the person Red: for the setting's days after discharge a rating
    other than Red is refused unless a coordinator records why (`lift_red`)."""
    validation.one_of(
        destination,
        DISCHARGE_DESTINATIONS,
        field="discharge_destination",
        message="Select where they were discharged to",
    )
    validation.a_past_date(discharged_on, field="discharged_on", label="date discharged")
    with transaction.atomic():
        current, episode = _lock_episode(admission, by, expected_version)
        if not episode.is_current:
            raise ValidationError(ALREADY_DISCHARGED)
        if discharged_on < episode.admitted_on:
            raise ValidationError(
                {
                    "discharged_on": "The date discharged cannot be before the date admitted "
                    f"({episode.admitted_on:%-d %B %Y})"
                }
            )
        for what, day in (
            ("an oversight visit", _last_visit(episode)),
            ("a C(E)TR", episode.last_cetr_on),
        ):
            if day is not None and discharged_on < day:
                raise ValidationError(
                    {
                        "discharged_on": f"The date discharged cannot be before {what} held "
                        f"during the stay ({day:%-d %B %Y})"
                    }
                )
        episode.save_if_current(
            expected_version,
            discharged_on=discharged_on,
            discharge_destination=destination,
            cetr_due=None,
            cetr_due_kind="",
            visit_due=None,
        )
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=episode,
            person_id=current.pk,
            place_id=current.place_id,
            changes={
                "discharged_on": [None, discharged_on],
                "discharge_destination": [None, destination],
                "version": [expected_version, episode.version],
            },
        )
        days = current.place.settings.post_discharge_red_days
        risk.rate(
            person=current,
            rating=RiskRating.RED,
            rationale=(
                f"Discharged from {episode.hospital} on {discharged_on:%-d %B %Y}: Red for "
                f"{days} days after discharge (place setting)"
            ),
            decided_on=_rated_on_or_after(current, discharged_on),
            context=RatingContext.DISCHARGE,
            by=by,
        )
    return episode


def lift_red(
    *, admission: Admission, reason: str, expected_version: int, by: audit.Context
) -> Admission:
    """A coordinator records why the person need not stay Red for the whole period after
    their discharge; ratings other than Red are then allowed (issue 10, part 1)."""
    reason = validation.text(
        reason, field="red_lifted_reason", label="Why", max_length=2000, required=False
    )
    if not reason:
        raise ValidationError({"red_lifted_reason": "Enter why they need not stay Red"})
    if by.role is not None and not role_has(by.role, Permission.RATE_PERSON):
        raise ValidationError("Only a coordinator can record why a person need not stay Red")
    with transaction.atomic():
        current, episode = _lock_episode(admission, by, expected_version)
        latest = Admission.objects.filter(person=current).order_by("-admitted_on", "-id").first()
        if episode.is_current or latest is None or latest.pk != episode.pk:
            raise ValidationError("Only the stay a person was last discharged from keeps them Red")
        until = rules.red_until(current.place.settings, episode.discharged_on)  # type: ignore[arg-type]
        if dates.today() >= until:
            raise ValidationError(
                f"The period after discharge ended on {until:%-d %B %Y}: any rating is allowed"
            )
        if episode.red_lifted_on is not None:
            raise ValidationError("Why they need not stay Red is already recorded")
        episode.save_if_current(
            expected_version,
            red_lifted_on=dates.today(),
            red_lifted_reason=reason,
            red_lifted_by=by.actor,
        )
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=episode,
            person_id=current.pk,
            place_id=current.place_id,
            changes={
                "red_lifted_on": [None, episode.red_lifted_on],
                "red_lifted_reason": [None, "recorded"],
                "version": [expected_version, episode.version],
            },
        )
    return episode


def record_visit(
    *,
    admission: Admission,
    visited_on: date,
    visited_by: str,
    findings: str,
    by: audit.Context,
) -> OversightVisit:
    """A commissioner's oversight visit during the stay; the next one falls due from it."""
    visited_by = validation.text(
        visited_by, field="visited_by", label="Who visited", max_length=200, required=False
    )
    if not visited_by:
        raise ValidationError({"visited_by": "Enter who visited"})
    findings = validation.text(
        findings, field="findings", label="Findings", max_length=8000, required=True
    )
    validation.a_past_date(visited_on, field="visited_on", label="date of the visit")
    with transaction.atomic():
        current, episode = _lock_episode(admission, by)
        if visited_on < episode.admitted_on or (
            episode.discharged_on is not None and visited_on > episode.discharged_on
        ):
            ended = f"{episode.discharged_on:%-d %B %Y}" if episode.discharged_on else "today"
            raise ValidationError(
                {
                    "visited_on": "The date of the visit must be during the stay "
                    f"({episode.admitted_on:%-d %B %Y} to {ended})"
                }
            )
        visit = OversightVisit.objects.create(
            admission=episode,
            person=current,
            place_id=current.place_id,
            visited_on=visited_on,
            visited_by=visited_by,
            findings=findings,
            recorded_by=by.actor,
        )
        _keep_due(episode, current)
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=visit,
            person_id=current.pk,
            place_id=current.place_id,
            changes={"visited_on": [None, visited_on]},
        )
    return visit


# --- What C(E)TRs tell a stay (called by dsr.reviews inside its own operations) ------------


def note_cetr_held(*, person: Person, admission: Admission, held_on: date) -> None:
    """A post-admission or inpatient C(E)TR was held during the stay: the next one falls due
    from it. Joins the caller's transaction, which holds the person's lock."""
    episode = Admission.objects.select_for_update().get(pk=admission.pk)
    if episode.last_cetr_on is not None and episode.last_cetr_on >= held_on:
        return
    Admission.objects.filter(pk=episode.pk).update(last_cetr_on=held_on)
    episode.last_cetr_on = held_on
    _keep_due(episode, person)


def note_community_cetr(*, person: Person, held_on: date) -> None:
    """A community C(E)TR was held: if it preceded the person's current stay (and followed
    any earlier one), that stay needs no post-admission C(E)TR. Joins the caller's
    transaction, which holds the person's lock."""
    episode = Admission.objects.select_for_update().filter(person=person).current().first()
    if episode is None or episode.community_cetr_before or held_on > episode.admitted_on:
        return
    previous = _previous_discharge(person, episode.admitted_on, exclude=episode.pk)
    if previous is not None and held_on <= previous:
        return
    Admission.objects.filter(pk=episode.pk).update(community_cetr_before=True)
    episode.community_cetr_before = True
    _keep_due(episode, person)


def current_admission(person: Person) -> Admission | None:
    """The person's open episode, for services above (reviews): not a read path for pages."""
    return Admission.objects.filter(person=person).current().first()


# --- What risk and people ask of hospital (registered in HospitalConfig.ready) -----------


def guard_rating(person: Person, rating: str, decided_on: date) -> None:
    """An inpatient is rated Blue until discharged; a discharge keeps them Red for the
    setting's days unless a coordinator has recorded why not (ADR 0022)."""
    latest = Admission.objects.filter(person=person).order_by("-admitted_on", "-id").first()
    if latest is None:
        return
    if latest.is_current:
        if rating != RiskRating.BLUE:
            raise ValidationError(
                {
                    "rating": f"{person.full_name} is in hospital (admitted to {latest.hospital} "
                    f"on {latest.admitted_on:%-d %B %Y}), so is rated Blue. Record their "
                    "discharge to change the rating"
                }
            )
        return
    until = rules.red_until(person.place.settings, latest.discharged_on)  # type: ignore[arg-type]
    if rating != RiskRating.RED and decided_on < until and latest.red_lifted_on is None:
        raise ValidationError(
            {
                "rating": f"{person.full_name} was discharged on "
                f"{latest.discharged_on:%-d %B %Y} and stays Red until {until:%-d %B %Y} "
                "(place setting), unless a coordinator records why not: use \u201cRecord why "
                "they need not stay Red\u201d on their record"
            }
        )


def earliest_record(person: Person) -> date | None:
    """The first admission: a date of birth cannot move after it (people.services asks)."""
    return (
        Admission.objects.filter(person=person)
        .order_by("admitted_on")
        .values_list("admitted_on", flat=True)
        .first()
    )
