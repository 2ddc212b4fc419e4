"""Preparing, running and finishing a tracker meeting (issue 11; DESIGN.md principle 3).

Each operation is one transaction that locks the meeting's row first, so that two
coordinators preparing the same agenda, or one starting the meeting while another adds an
item, queue rather than overwrite each other; and each validates everything it is given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from dsr.accounts.models import User
from dsr.actions import scoping as action_facts
from dsr.actions import services as actions
from dsr.actions.models import Action, ActionSource, ActionStatus
from dsr.core import audit, dates, validation
from dsr.core.access import Permission, require_acting_in, role_has
from dsr.core.models import AuditAction, StaleVersion
from dsr.hospital import scoping as hospital_facts
from dsr.meetings import agenda
from dsr.meetings.models import (
    AgendaItem,
    Attendee,
    Meeting,
    MeetingAction,
    MeetingStatus,
    Outcome,
)
from dsr.people import scoping as people_facts
from dsr.people import services as people
from dsr.people.choices import ClosureReason, Status
from dsr.people.models import Person
from dsr.people.transitions import approaching
from dsr.places.models import Membership, Organisation, Place
from dsr.places.services import check_organisation
from dsr.referrals import scoping as referral_facts
from dsr.reviews.services import COMMUNITY_TASK
from dsr.risk import scoping as risk_facts
from dsr.risk import services as risk
from dsr.risk.models import RatingContext, RiskRating
from dsr.risk.rules import AMBER_MEETING
from dsr.risk.services import AgreedAction

FROZEN = "The agenda is frozen: the meeting has started"
NOT_RUNNING = "The meeting is not in progress: start it before recording what it decided"


def _refuse_stale(row: Meeting | AgendaItem, expected_version: int | None) -> None:
    if expected_version is not None and row.version != expected_version:
        raise StaleVersion()


def lock(meeting: Meeting | int, by: audit.Context) -> Meeting:
    """The meeting's row, locked until the transaction ends, in the acting place."""
    pk = meeting if isinstance(meeting, int) else meeting.pk
    current = (
        Meeting.objects.select_for_update(of=("self",)).select_related("place__settings").get(pk=pk)
    )
    require_acting_in(by, current.place_id)
    return current


def _member(user: Any, place_id: int, *, field: str, label: str) -> Any:
    """A user chosen for a meeting (chair, minute-taker, attendee): active in this place,
    in a role that may see its meetings."""
    if user is None:
        return None
    if not isinstance(user, User):
        raise ValidationError({field: f"Choose the {label} from this place's team"})
    roles = Membership.objects.filter(
        user_id=user.pk, place_id=place_id, is_active=True, user__is_active=True
    ).values_list("role", flat=True)
    if not any(role_has(role, Permission.VIEW_MEETINGS) for role in roles):
        raise ValidationError({field: f"Choose the {label} from this place's team"})
    return user


def _since(place_id: int, held_on: date, *, exclude: int | None = None) -> tuple[Any, date]:
    """The meeting before this date, and the day "since the last meeting" counts from (a
    month before, for a place's first meeting)."""
    earlier = Meeting.objects.filter(place_id=place_id, held_on__lt=held_on)
    if exclude is not None:
        earlier = earlier.exclude(pk=exclude)
    before = earlier.order_by("-held_on").first()
    return before, (before.held_on if before else dates.add_months(held_on, -1))


# A meeting's date: a record of one held in the last few years, or one planned ahead. Found
# by a review: 31 December 9999 was accepted, and its agenda could not be prepared (the
# "since" window runs past the calendar); 1 January 1 stopped the service with a ValueError.
MEETING_YEARS = 5


def _meeting_day(held_on: Any) -> date:
    held_on = validation.a_date(held_on, field="held_on", label="date of the meeting")
    today = dates.today()
    if (
        not dates.add_years(today, -MEETING_YEARS)
        <= held_on
        <= dates.add_years(today, MEETING_YEARS)
    ):
        raise ValidationError(
            {"held_on": f"The date of the meeting must be within {MEETING_YEARS} years of today"}
        )
    return held_on


def _queue_on_place(place_id: int) -> None:
    """One change of a place's meeting dates at a time: the place's row is the queue. Taken
    before any meeting's row, in every service that sets a date (a new meeting's `previous`
    waits on the meeting it names, so the other order deadlocks)."""
    Place.objects.select_for_update().filter(pk=place_id).first()


def schedule_meeting(
    *,
    place: Place,
    held_on: date,
    by: audit.Context,
    venue: str = "",
    chair: Any = None,
    minute_taker: Any = None,
) -> Meeting:
    held_on = _meeting_day(held_on)
    venue = validation.text(venue, field="venue", label="Where", max_length=200, required=False)
    require_acting_in(by, place.pk)
    _member(chair, place.pk, field="chair", label="chair")
    _member(minute_taker, place.pk, field="minute_taker", label="minute-taker")
    with transaction.atomic():
        _queue_on_place(place.pk)
        if Meeting.objects.filter(place=place, held_on=held_on).exists():
            raise ValidationError({"held_on": "There is already a meeting on that date"})
        previous, since = _since(place.pk, held_on)
        meeting = Meeting.objects.create(
            place=place,
            held_on=held_on,
            venue=venue,
            chair=chair,
            minute_taker=minute_taker,
            previous=previous,
            since=since,
            created_by=by.actor,
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=meeting,
            place_id=place.pk,
            changes={"held_on": [None, held_on]},
        )
    return meeting


def update_meeting(
    *,
    meeting: Meeting,
    expected_version: int,
    venue: str,
    chair: Any,
    minute_taker: Any,
    by: audit.Context,
    held_on: date | None = None,
) -> Meeting:
    """Its place, chair and minute-taker; its date only while it is being prepared."""
    venue = validation.text(venue, field="venue", label="Where", max_length=200, required=False)
    with transaction.atomic():
        if held_on is not None:  # may move: queue as schedule_meeting does, place first
            require_acting_in(by, meeting.place_id)
            _queue_on_place(meeting.place_id)
        current = lock(meeting, by)
        _refuse_stale(current, expected_version)
        if current.status == MeetingStatus.FINISHED:
            raise ValidationError("The meeting has finished: its record is kept as it was")
        _member(chair, current.place_id, field="chair", label="chair")
        _member(minute_taker, current.place_id, field="minute_taker", label="minute-taker")
        values: dict[str, Any] = {"venue": venue, "chair": chair, "minute_taker": minute_taker}
        if held_on is not None and held_on != current.held_on:
            held_on = _meeting_day(held_on)
            if current.is_frozen:
                raise ValidationError({"held_on": "The meeting has started: its date is fixed"})
            if Meeting.objects.filter(place_id=current.place_id, held_on=held_on).exists():
                raise ValidationError({"held_on": "There is already a meeting on that date"})
            previous, since = _since(current.place_id, held_on, exclude=current.pk)
            values.update(held_on=held_on, previous=previous, since=since)
        changes = {
            name: [str(getattr(current, name) or ""), str(value or "")]
            for name, value in values.items()
            if getattr(current, name) != value
        }
        current.save_if_current(expected_version, **values)
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=current,
            place_id=current.place_id,
            changes=changes,
        )
    return current


def add_attendee(
    *,
    meeting: Meeting,
    by: audit.Context,
    user: Any = None,
    name: str = "",
    organisation: Organisation | None = None,
    job_title: str = "",
) -> Attendee:
    name = validation.text(name, field="name", label="Name", max_length=150, required=False)
    job_title = validation.text(
        job_title, field="job_title", label="Role", max_length=150, required=False
    )
    if user is None and not name:
        raise ValidationError({"name": "Choose a user, or enter the attendee's name"})
    with transaction.atomic():
        current = lock(meeting, by)
        if current.status == MeetingStatus.FINISHED:
            raise ValidationError("The meeting has finished: its record is kept as it was")
        _member(user, current.place_id, field="user", label="attendee")
        check_organisation(organisation, current.place_id, field="organisation")
        if user is not None and current.attendees.filter(user=user).exists():
            raise ValidationError({"user": f"{user} is already an attendee"})
        attendee = Attendee.objects.create(
            meeting=current, user=user, name=name, organisation=organisation, job_title=job_title
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=attendee,
            place_id=current.place_id,
            changes={"meeting": [None, current.pk]},
        )
    return attendee


def mark_absent(*, attendee: Attendee, absent: bool, by: audit.Context) -> Attendee:
    """Invited but did not come (or back again): kept, never deleted."""
    if not isinstance(absent, bool):  # "no" is not False (a review found it marked absent)
        raise ValidationError({"absent": "Select whether they were absent"})
    with transaction.atomic():
        current = lock(attendee.meeting_id, by)
        if current.status == MeetingStatus.FINISHED:
            raise ValidationError("The meeting has finished: its record is kept as it was")
        row = Attendee.objects.select_for_update().get(pk=attendee.pk, meeting=current)
        if row.absent == absent:
            return row  # as asked already (a second click): nothing to record
        before = row.absent
        row.save_if_current(row.version, absent=absent)
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=row,
            place_id=current.place_id,
            changes={"absent": [before, absent]},
        )
    return row


# The agenda -------------------------------------------------------------------------------


def window_of(meeting: Meeting) -> agenda.Window:
    policy = meeting.place.settings
    return agenda.Window(
        since=meeting.since,
        held_on=meeting.held_on,
        due_by=meeting.held_on + timedelta(days=policy.meeting_lookahead_days),
    )


Key = tuple[str, int]  # ("person", id) or ("referral", id)


def gather(meeting: Meeting) -> dict[Key, list[agenda.Reason]]:
    """Everyone the rules put on the meeting's agenda, with their reasons: one query per
    rule, however many people the place holds (tests/meetings/test_views.py: an agenda of
    200 reads as one of 3 does)."""
    place_id = meeting.place_id
    policy = meeting.place.settings
    window = window_of(meeting)
    found: dict[Key, list[agenda.Reason]] = defaultdict(list)

    def add(person_id: int, reason: agenda.Reason | None) -> None:
        if reason is not None:
            found[("person", person_id)].append(reason)

    for pk, rating, rated_on, review_due in people_facts.rated_for_review(
        place_id, due_by=window.due_by
    ):
        add(pk, agenda.rating(rating, rated_on))
        add(pk, agenda.amber_review(rating, review_due, window))
    explanations: dict[int, list[str]] = defaultdict(list)
    for pk, text in risk_facts.open_signal_explanations(place_id):
        explanations[pk].append(text)
    for pk, texts in explanations.items():
        add(pk, agenda.rising_risk(texts))
    for pk, due_on in action_facts.open_tasks_due(place_id, COMMUNITY_TASK, window.due_by):
        add(pk, agenda.cetr("Community C(E)TR", due_on, window))
    for stay in hospital_facts.stays_for_agenda(
        place_id, since=window.since, until=window.held_on, due_by=window.due_by
    ):
        if stay.discharged_on is None:
            what = stay.get_cetr_due_kind_display()
            add(stay.person_id, agenda.cetr(what, stay.cetr_due, window))
        add(stay.person_id, agenda.admitted(stay.hospital, stay.admitted_on, window))
        add(stay.person_id, agenda.discharged(stay.discharged_on, window))
    for row in action_facts.overdue_counts(place_id, window.held_on):
        add(
            row["person_id"], agenda.overdue("actions_overdue", row["actions"], "action", "actions")
        )
        add(
            row["person_id"],
            agenda.overdue(
                "recommendations_overdue",
                row["recommendations"],
                "C(E)TR recommendation",
                "C(E)TR recommendations",
            ),
        )
    for pk, born in people_facts.born_within(place_id, approaching(policy, window.held_on)):
        add(pk, agenda.transition(policy, born, window))
    for pk, joined_on in risk_facts.joined_between(place_id, window.since, window.held_on):
        add(pk, agenda.added(joined_on, window))
    for pk, closed_on, why in people_facts.closed_between(place_id, window.since, window.held_on):
        add(pk, agenda.closed(closed_on, ClosureReason(why).label, window))
    for referral in referral_facts.received_between(place_id, window.since, window.held_on):
        if referral.person_id is not None:
            add(referral.person_id, agenda.referred(referral.received_on, window))
        else:
            found[("referral", referral.pk)].append(
                agenda.referral(referral.received_on, referral.get_status_display())
            )
    if meeting.previous_id is not None:
        for carried in (
            MeetingAction.objects.filter(
                item__meeting_id=meeting.previous_id,
                action__status=ActionStatus.OPEN,
                item__person__status=Status.OPEN,
            )
            .values("item__person_id")
            .annotate(count=Count("pk"))
            .order_by()
        ):
            add(carried["item__person_id"], agenda.previous_actions(carried["count"]))
        for pk in AgendaItem.objects.filter(
            meeting_id=meeting.previous_id,
            person__status=Status.OPEN,
            removed=False,
            discussed_at__isnull=True,
        ).values_list("person_id", flat=True):
            add(pk, agenda.not_reached())
    return dict(found)


def _names(keys: Iterable[Key]) -> dict[Key, str]:
    """What the agenda sorts by within a reason: family name, given name."""
    names = people_facts.sort_names([pk for kind, pk in keys if kind == "person"])
    return {("person", pk): name for pk, name in names.items()}


def _key(item: AgendaItem) -> Key:
    if item.person_id is not None:
        return ("person", item.person_id)
    assert item.referral_id is not None  # one or the other (agenda_person_or_referral)
    return ("referral", item.referral_id)


def prepare_agenda(*, meeting: Meeting, by: audit.Context) -> Meeting:
    """Build the agenda from the register, or bring it up to date: a rule's new people come
    on, reasons are refreshed, and people no rule holds any more come off (saying so).
    What a coordinator added or took off stays as they left it. One event for the whole
    agenda: the people it put on, as a list shows them."""
    with transaction.atomic():
        current = lock(meeting, by)
        if current.is_frozen:
            raise ValidationError(FROZEN)
        found = gather(current)
        items = {_key(item): item for item in current.items.select_for_update()}
        for key, reasons in found.items():
            as_json = [r.as_json() for r in reasons]
            item = items.get(key)
            if item is None:
                item = AgendaItem(
                    meeting=current,
                    person_id=key[1] if key[0] == "person" else None,
                    referral_id=key[1] if key[0] == "referral" else None,
                    reasons=as_json,
                )
                items[key] = item
                continue
            item.reasons = as_json
            if item.removed and item.removed_by_rule:
                item.removed, item.removed_reason, item.removed_by_rule = False, "", False
        for key, item in items.items():
            if key not in found and item.pk is not None:
                item.reasons = []
                if not item.added_reason and not item.removed:
                    item.removed, item.removed_by_rule = True, True
                    item.removed_reason = "No rule puts them on the agenda any more"
        names = _names(items)
        ordered = sorted(
            items.items(),
            key=lambda pair: (
                agenda.rank(_all_reasons(pair[1])),
                pair[0][0],
                names.get(pair[0], ""),
                pair[0][1],
            ),
        )
        fresh: list[AgendaItem] = []
        kept: list[AgendaItem] = []
        for position, (_, item) in enumerate(ordered, start=1):
            item.position = position
            (kept if item.pk else fresh).append(item)
        # In batches: with parameters bound on the server, one statement holds at most
        # 65,535 of them (a national agenda of thousands of items would be more).
        AgendaItem.objects.bulk_create(fresh, batch_size=500)
        if kept:
            AgendaItem.objects.bulk_update(
                kept,
                ["position", "reasons", "removed", "removed_reason", "removed_by_rule"],
                batch_size=500,
            )
        Meeting.objects.filter(pk=current.pk).update(agenda_built_at=timezone.now())
        current.agenda_built_at = timezone.now()
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=current,
            place_id=current.place_id,
            changes={"agenda": [None, f"{len(found)} on the agenda"]},
            shown=sorted(pk for kind, pk in found if kind == "person"),
        )
    return current


def _all_reasons(item: AgendaItem) -> list[dict[str, str]]:
    extra = [agenda.by_coordinator(item.added_reason).as_json()] if item.added_reason else []
    return [*item.reasons, *extra]


def add_item(*, meeting: Meeting, person: Person, reason: str, by: audit.Context) -> AgendaItem:
    """A coordinator puts someone on the agenda, saying why."""
    reason = validation.text(
        reason, field="reason", label="Why they are added", max_length=2000, required=True
    )
    with transaction.atomic():
        current = lock(meeting, by)
        if current.is_frozen:
            raise ValidationError(FROZEN)
        if not isinstance(person, Person) or person.place_id != current.place_id:
            raise ValidationError({"person": "Choose someone on this place's register"})
        item = current.items.select_for_update().filter(person=person).first()
        if item is not None and not item.removed:
            raise ValidationError({"person": "They are on the agenda already"})
        if item is None:
            last = current.items.order_by("-position").values_list("position", flat=True).first()
            item = AgendaItem.objects.create(
                meeting=current,
                person=person,
                position=(last or 0) + 1,
                added_reason=reason,
                added_by=by.actor,
            )
        else:
            item.save_if_current(
                item.version,
                removed=False,
                removed_reason="",
                removed_by=None,
                removed_by_rule=False,
                added_reason=reason,
                added_by=by.actor,
            )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=item,
            person_id=person.pk,
            place_id=current.place_id,
            changes={"added_reason": [None, reason]},
        )
    return item


def remove_item(
    *, item: AgendaItem, reason: str, expected_version: int, by: audit.Context
) -> AgendaItem:
    """A coordinator takes someone off the agenda, saying why: the item is kept, marked."""
    reason = validation.text(
        reason, field="reason", label="Why they are taken off", max_length=2000, required=True
    )
    with transaction.atomic():
        current = lock(item.meeting_id, by)
        if current.is_frozen:
            raise ValidationError(FROZEN)
        row = AgendaItem.objects.select_for_update().get(pk=item.pk, meeting=current)
        if row.removed:
            raise ValidationError("They are off the agenda already")
        row.save_if_current(
            expected_version,
            removed=True,
            removed_reason=reason,
            removed_by=by.actor,
            removed_by_rule=False,
        )
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=row,
            person_id=row.person_id,
            place_id=current.place_id,
            changes={"removed": [False, True], "removed_reason": [None, reason]},
        )
    return row


def start_meeting(*, meeting: Meeting, expected_version: int, by: audit.Context) -> Meeting:
    """The meeting begins: its agenda is frozen as it stands."""
    with transaction.atomic():
        current = lock(meeting, by)
        _refuse_stale(current, expected_version)
        if current.status != MeetingStatus.PREPARING:
            raise ValidationError("The meeting has started already")
        if current.agenda_built_at is None:
            raise ValidationError("Prepare the agenda before the meeting starts")
        if current.held_on > dates.today():
            raise ValidationError(
                f"The meeting is on {current.held_on:%-d %B %Y}: start it on the day"
            )
        current.save_if_current(
            expected_version, status=MeetingStatus.IN_PROGRESS, started_at=timezone.now()
        )
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=current,
            place_id=current.place_id,
            changes={"status": [MeetingStatus.PREPARING, MeetingStatus.IN_PROGRESS]},
        )
    return current


def _check_agreed(agreed: Sequence[AgreedAction]) -> None:
    """Every action agreed has what it needs, before anything is written."""
    problems: dict[str, list[str]] = {}
    for i, item in enumerate(agreed):
        if not isinstance(item, AgreedAction):
            raise ValidationError({f"action_{i}": "An action needs a description"})
        if not str(item.description or "").strip():
            problems.setdefault(f"action_{i}_description", []).append("Enter what needs to be done")
        if item.owner_user is None and not str(item.owner_name or "").strip():
            problems.setdefault(f"action_{i}_owner_user", []).append("Choose who owns this action")
        try:
            validation.a_date(item.due_on, field=f"action_{i}_due_on", label="due date")
        except ValidationError:
            problems.setdefault(f"action_{i}_due_on", []).append("Enter the action's due date")
    if problems:
        raise ValidationError(problems)


def record_discussion(
    *,
    item: AgendaItem,
    expected_version: int,
    notes: str,
    by: audit.Context,
    outcome: str = "",
    rating: str = "",
    rationale: str = "",
    next_review_on: date | None = None,
    agreed: Sequence[AgreedAction] = (),
) -> AgendaItem:
    """What the meeting decided about one person: notes, the rating confirmed or changed (a
    rating through the risk service, in the meeting's context), actions with owners and due
    dates, and when it will look again. For a referral not on the register: notes only."""
    notes = validation.text(
        notes, field="notes", label="Discussion", max_length=8000, required=True
    )
    agreed = list(agreed)
    _check_agreed(agreed)
    with transaction.atomic():
        current = lock(item.meeting_id, by)
        if current.status != MeetingStatus.IN_PROGRESS:
            raise ValidationError(NOT_RUNNING)
        row = (
            AgendaItem.objects.select_for_update(of=("self",))
            .select_related("person")
            .get(pk=item.pk, meeting=current)
        )
        _refuse_stale(row, expected_version)
        if row.removed:
            raise ValidationError("They were taken off the agenda before the meeting")
        if row.is_discussed:
            raise ValidationError("The meeting's decision about them is recorded already")
        values: dict[str, Any] = {"notes": notes, "discussed_at": timezone.now()}
        values["discussed_by"] = by.actor
        person = row.person
        if person is None:
            if outcome or rating or agreed:
                raise ValidationError("A referral not on the register takes notes only")
        else:
            # Locked before the rating confirmed is compared with the current one: read
            # unlocked, a rating made meanwhile was overwritten by a "confirmed" older one
            # (a review). Meeting, item, then person: the order this has always taken.
            person = people.lock_open(person, by)
            values.update(
                _decide(
                    person=person,
                    meeting=current,
                    outcome=outcome,
                    rating=rating,
                    rationale=rationale,
                    next_review_on=next_review_on,
                    by=by,
                )
            )
        row.save_if_current(expected_version, **values)
        for each in agreed:
            assert person is not None  # a referral's item agrees no actions (above)
            action = actions.open_action(
                person=person,
                description=each.description,
                due_on=each.due_on,
                source=ActionSource.MEETING,
                source_ref=f"meeting:{current.pk}",
                owner_user=each.owner_user,
                owner_name=each.owner_name,
                by=by,
            )
            MeetingAction.objects.create(item=row, action=action)
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=row,
            person_id=row.person_id,
            place_id=current.place_id,
            changes={
                "notes": ["", "written"],  # what was said stays on the item, not in the trail
                "outcome": [None, values.get("outcome", "")],
                "next_review_on": [None, values.get("next_review_on")],
                "actions": [None, len(agreed)],
            },
        )
    return row


def _decide(
    *,
    person: Person,
    meeting: Meeting,
    outcome: str,
    rating: str,
    rationale: str,
    next_review_on: date | None,
    by: audit.Context,
) -> dict[str, Any]:
    validation.one_of(
        outcome, Outcome, field="outcome", message="Select whether the rating is confirmed"
    )
    if not rating:
        raise ValidationError({"rating": "Select the rating the meeting agreed"})
    validation.one_of(rating, RiskRating, field="rating", message="Select the rating")
    if outcome == Outcome.CONFIRMED and rating != person.current_rating:
        raise ValidationError(
            {"rating": "A confirmed rating is the current one: choose 'Rating changed'"}
        )
    if outcome == Outcome.CHANGED and rating == person.current_rating:
        raise ValidationError({"rating": "Choose a different rating, or confirm the current one"})
    if next_review_on is None:
        raise ValidationError({"next_review_on": "Enter the date of the next review"})
    validation.a_date(next_review_on, field="next_review_on", label="next review")
    if next_review_on < meeting.held_on:
        raise ValidationError(
            {"next_review_on": "The next review cannot be before the date of the meeting"}
        )
    decision = risk.rate(
        person=person,
        rating=rating,
        rationale=rationale or f"{Outcome(outcome).label} at the tracker meeting",
        decided_on=meeting.held_on,
        context=RatingContext.TRACKER_MEETING,
        review_due=next_review_on,
        by=by,
    )
    # The multi-agency meeting an Amber rating asked for is this one.
    for prompt in actions.open_rule_actions(person=person, rule_key=AMBER_MEETING):
        actions.update_action(
            action=prompt,
            status=ActionStatus.DONE,
            note=f"Discussed at the tracker meeting on {meeting.held_on:%-d %B %Y}",
            expected_version=prompt.version,
            # the meeting's day, unless the prompt was opened since (minutes recorded late)
            on=max(meeting.held_on, timezone.localdate(prompt.created_at)),
            by=by,
        )
    return {"outcome": outcome, "rating": decision, "next_review_on": next_review_on}


def finish_meeting(*, meeting: Meeting, expected_version: int, by: audit.Context) -> Meeting:
    """The meeting ends; what was not reached is carried to the next meeting's agenda."""
    with transaction.atomic():
        current = lock(meeting, by)
        _refuse_stale(current, expected_version)
        if current.status != MeetingStatus.IN_PROGRESS:
            raise ValidationError("Only a meeting in progress can finish")
        current.save_if_current(
            expected_version, status=MeetingStatus.FINISHED, finished_at=timezone.now()
        )
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=current,
            place_id=current.place_id,
            changes={"status": [MeetingStatus.IN_PROGRESS, MeetingStatus.FINISHED]},
        )
    return current


def agenda_items(meeting: Meeting) -> list[AgendaItem]:
    """A meeting's items still on its agenda, in order: for jobs and the demo loader, which
    act as the system (pages read them through the AGENDA door)."""
    return list(
        AgendaItem.objects.filter(meeting=meeting, removed=False)
        .select_related("person")
        .order_by("position", "id")
    )


def agreed_actions(meeting: Meeting) -> list[Action]:
    """The actions a meeting agreed, oldest first: for jobs and the demo loader."""
    return [
        link.action
        for link in MeetingAction.objects.filter(item__meeting=meeting)
        .select_related("action")
        .order_by("id")
    ]
