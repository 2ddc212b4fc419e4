"""The demo's monthly tracker meetings (issue 11): two past meetings, finished, with their
attendees, decisions (ratings confirmed or changed) and agreed actions, some done and some
still open; and the next meeting, in the coming week, its agenda prepared, one person
added by the coordinator and one taken off. All through dsr.meetings.services.

A decision is a rating dated the day of the meeting (risk.services.rate), and a rating
cannot be dated before the person's current one: so the meetings are held in date order,
and each discusses only the people whose current rating is no later than its date.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from dsr.actions import services as actions
from dsr.actions.models import ActionStatus
from dsr.actions.services import possible_owners
from dsr.core import audit, dates
from dsr.core.access import Role
from dsr.hospital import services as hospital
from dsr.meetings import services as meetings
from dsr.meetings.models import AgendaItem, Meeting, Outcome
from dsr.places.models import Organisation, Place
from dsr.risk.models import RiskRating
from dsr.risk.rules import AMBER_MEETING
from dsr.risk.services import AgreedAction

MEETING_DAY = 1  # Tuesday: the place meets on a Tuesday
DISCUSSED = 8  # people each past meeting reaches; the rest are carried forward
VENUE = "Room 2, Northbridge Civic Centre (fictional), or join online"

NOTES = {
    RiskRating.RED: [
        "Placement still fragile; crisis plan shared with the out-of-hours team.",
        "Two A&E attendances this month. Intensive support team visiting daily.",
    ],
    RiskRating.AMBER: [
        "School hours reduced again; family asking for short breaks.",
        "Some progress with the new support staff; risk still raised at weekends.",
    ],
    RiskRating.GREEN: [
        "Settled at home and school. Family happy with the plan.",
        "No incidents since the last meeting; keep under review.",
    ],
    RiskRating.BLUE: [
        "Still on the ward; discharge planning meeting booked.",
        "Leave going well; community team preparing for discharge.",
    ],
}
# What the meeting may move a rating to (never to Blue: that comes from an admission).
CHANGES = {RiskRating.RED: RiskRating.AMBER, RiskRating.AMBER: RiskRating.GREEN}
ACTIONS = [
    ("Book a community C(E)TR with the family", None),
    ("Share the updated positive behaviour support plan with school", "School SENCO"),
    ("Ask the local authority about short breaks for the family", "Social worker"),
    ("Visit the family and update the crisis plan", None),
    ("Refer to the intensive support team", "CAMHS care coordinator"),
]


def _next_tuesday(day: date) -> date:
    """The first Tuesday after the day: within the coming week."""
    return day + timedelta(days=(MEETING_DAY - day.weekday() - 1) % 7 + 1)


def load_meetings(
    rng: random.Random,
    place: Place,
    *,
    coordinator: Any,
    keyworker: Any,
    partner: Any,
    organisations: list[Organisation],
) -> list[Meeting]:
    by = audit.Context(
        actor=coordinator,
        place_id=place.pk,
        actor_label=coordinator.email,
        role=Role.COORDINATOR,
    )
    today = dates.today()
    coming = _next_tuesday(today)
    last = coming - timedelta(days=28)
    before = last - timedelta(days=28)
    team = {"coordinator": coordinator, "keyworker": keyworker, "partner": partner}
    held = []
    for held_on in (before, last):
        meeting = _past_meeting(rng, place, held_on, team=team, organisations=organisations, by=by)
        held.append(meeting)
    return [*held, _next_meeting(place, coming, team=team, by=by)]


def _schedule(place: Place, held_on: date, *, team: dict[str, Any], by: Any) -> Meeting:
    meeting = meetings.schedule_meeting(
        place=place,
        held_on=held_on,
        venue=VENUE,
        chair=team["coordinator"],
        minute_taker=team["keyworker"],
        by=by,
    )
    for user in team.values():
        meetings.add_attendee(meeting=meeting, user=user, by=by)
    return meeting


def _past_meeting(
    rng: random.Random,
    place: Place,
    held_on: date,
    *,
    team: dict[str, Any],
    organisations: list[Organisation],
    by: Any,
) -> Meeting:
    meeting = _schedule(place, held_on, team=team, by=by)
    school = next((o for o in organisations if "School" in o.name), None)
    meetings.add_attendee(
        meeting=meeting,
        name="Jo Mercer",
        job_title="Commissioner",
        by=by,
    )
    meetings.add_attendee(
        meeting=meeting,
        name=rng.choice(["Ola Adeyemi", "Bea Lund", "Sol Ferris"]),
        job_title="SENCO",
        organisation=school,
        by=by,
    )
    apologies = meetings.add_attendee(
        meeting=meeting, name="Dr Sam Okafor", job_title="Consultant psychiatrist", by=by
    )
    meetings.mark_absent(attendee=apologies, absent=True, by=by)
    meetings.prepare_agenda(meeting=meeting, by=by)
    meeting.refresh_from_db()
    meeting = meetings.start_meeting(meeting=meeting, expected_version=meeting.version, by=by)
    reached = 0
    for item in _agenda(meeting):
        if reached >= DISCUSSED:
            break
        if item.person_id is None:
            continue
        if _may_decide(item, held_on):
            _decide(rng, meeting, item, team=team, by=by)
            reached += 1
    meeting.refresh_from_db()
    meeting = meetings.finish_meeting(meeting=meeting, expected_version=meeting.version, by=by)
    # Some of its actions done since; the rest still open (some overdue by now).
    for action in meetings.agreed_actions(meeting)[::2]:
        actions.update_action(
            action=action,
            status=ActionStatus.DONE,
            note="Done; reported back to the coordinator.",
            expected_version=action.version,
            by=by,
        )
    return meeting


def _agenda(meeting: Meeting) -> list[AgendaItem]:
    return meetings.agenda_items(meeting)


def _may_decide(item: AgendaItem, held_on: date) -> bool:
    """A decision on the day of a past meeting must not be dated before the person's
    current rating. And a past meeting closes an Amber rating's open prompt for a
    meeting as of its own date, which the action service refuses for a prompt opened
    since (all the demo's prompts were opened as it loaded): leave those people for the
    next meeting."""
    person = item.person
    if person is None or not person.is_open or person.rated_on is None:
        return False
    if person.rated_on > held_on:
        return False
    return not actions.has_open_rule_action(person=person, rule_key=AMBER_MEETING)


def _decide(
    rng: random.Random, meeting: Meeting, item: AgendaItem, *, team: dict[str, Any], by: Any
) -> None:
    person = item.person
    assert person is not None
    current = RiskRating(person.current_rating)
    # Change some ratings (never for anyone with a stay in hospital: that rating follows
    # the stay, hospital.services.guard_rating); confirm the rest.
    changed = current in CHANGES and rng.random() < 0.4 and hospital.earliest_record(person) is None
    rating = CHANGES[current] if changed else current
    agreed = []
    if rng.random() < 0.7:
        description, named = rng.choice(ACTIONS)
        owners = list(possible_owners(person).filter(pk__in=[u.pk for u in team.values()]))
        owner = None if named else (rng.choice(owners) if owners else None)
        agreed.append(
            AgreedAction(
                description=description,
                due_on=meeting.held_on + timedelta(days=rng.choice([14, 21, 42])),
                owner_user=owner,
                owner_name=named or ("" if owner else "Social worker"),
            )
        )
    meetings.record_discussion(
        item=item,
        expected_version=item.version,
        notes=rng.choice(NOTES[rating]),
        outcome=Outcome.CHANGED if changed else Outcome.CONFIRMED,
        rating=rating,
        rationale=(
            f"Agreed at the tracker meeting: {rating.label} reflects the discussion"
            if changed
            else ""
        ),
        next_review_on=meeting.held_on + timedelta(days=28 if rating != RiskRating.RED else 14),
        agreed=agreed,
        by=by,
    )


def _next_meeting(place: Place, held_on: date, *, team: dict[str, Any], by: Any) -> Meeting:
    """The coming meeting: scheduled, its agenda prepared from the register, one person
    added by the coordinator (with why) and one taken off (with why)."""
    meeting = _schedule(place, held_on, team=team, by=by)
    meetings.prepare_agenda(meeting=meeting, by=by)
    on = {item.person_id for item in _agenda(meeting) if item.person_id}
    extra = (
        place.people.filter(status="open", current_rating=RiskRating.GREEN)
        .exclude(pk__in=on)
        .order_by("family_name", "given_name", "id")
        .first()
    )
    if extra is not None:
        meetings.add_item(
            meeting=meeting,
            person=extra,
            reason="School has warned of a possible exclusion; the family asked for a discussion.",
            by=by,
        )
    last = [item for item in _agenda(meeting) if item.person_id and not item.added_reason]
    if len(last) > 1:
        off = last[-1]
        meetings.remove_item(
            item=off,
            reason="Discussed at their C(E)TR this week; the panel's recommendations cover it.",
            expected_version=off.version,
            by=by,
        )
    meeting.refresh_from_db()
    return meeting
