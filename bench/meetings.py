"""Tracker meetings for the bench register (issue 11; imported after django.setup(), by
history.build(), once the audit chain is written).

Each place gets three monthly meetings, built through dsr.meetings.services as a
coordinator would: two past meetings, their agendas prepared from the register, started,
some people discussed (the rating confirmed, dated the day of the meeting, with an action
agreed for some) and finished; and the latest, in the coming week, its agenda prepared.
Through the services rather than COPY: the agenda is the register's own rules
(services.gather) and a decision is a rating through the risk service, which a copy would
have to imitate; at 120 agendas and a few hundred decisions it takes a minute or so.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dsr.core import audit
from dsr.core.access import Role
from dsr.meetings import services as meetings
from dsr.meetings.models import AgendaItem, Meeting
from dsr.risk.services import AgreedAction

MONTH = timedelta(days=28)
DISCUSSED = 12  # people each past meeting reaches before it runs out of time


def write_meetings(world: Any) -> int:
    """Three meetings per place; returns how many agenda items they hold."""
    coming = world.today + timedelta(days=5)
    days = [coming - 2 * MONTH, coming - MONTH]
    for place in world.places:
        coordinator = world.pool(place.pk, "coordinator")[0]
        keyworker = world.pool(place.pk, "keyworker")[0]
        by = audit.Context(
            actor=coordinator,
            place_id=place.pk,
            actor_label=coordinator.email,
            role=Role.COORDINATOR,
        )
        for held_on in days:
            meeting = _prepared(place, held_on, coordinator, keyworker, by)
            _hold(world, meeting, held_on, keyworker, by)
        _prepared(place, coming, coordinator, keyworker, by)
    return AgendaItem.objects.count()


def _prepared(place: Any, held_on: Any, chair: Any, minute_taker: Any, by: Any) -> Meeting:
    meeting = meetings.schedule_meeting(
        place=place,
        held_on=held_on,
        venue="Civic Centre, Room 2",
        chair=chair,
        minute_taker=minute_taker,
        by=by,
    )
    for user in (chair, minute_taker):
        meetings.add_attendee(meeting=meeting, user=user, by=by)
    meetings.add_attendee(meeting=meeting, name="Jo Mercer", job_title="Commissioner", by=by)
    return meetings.prepare_agenda(meeting=meeting, by=by)


def _hold(world: Any, meeting: Meeting, held_on: Any, owner: Any, by: Any) -> None:
    """Start, discuss the first people whose current rating is no later than the day (a
    rating cannot be dated before the current one) and who are not in hospital (their
    rating follows the stay), then finish."""
    meeting.refresh_from_db()
    meetings.start_meeting(meeting=meeting, expected_version=meeting.version, by=by)
    items = (
        AgendaItem.objects.filter(
            meeting=meeting,
            removed=False,
            person__status="open",
            person__rated_on__lte=held_on,
        )
        .exclude(person__current_rating="B")
        .exclude(person__admissions__isnull=False)
        .select_related("person")
        .order_by("position", "id")[:DISCUSSED]
    )
    for number, item in enumerate(items):
        agreed = []
        if number % 2 == 0:
            agreed.append(
                AgreedAction(
                    description="Share the updated crisis plan with the school",
                    due_on=world.today + timedelta(days=7 + number),
                    owner_user=owner if number % 4 == 0 else None,
                    owner_name="" if number % 4 == 0 else "School SENCO",
                )
            )
        meetings.record_discussion(
            item=item,
            expected_version=item.version,
            notes="Discussed with the partners; plan holding.",
            outcome="confirmed",
            rating=item.person.current_rating,  # type: ignore[union-attr]
            next_review_on=held_on + MONTH,
            agreed=agreed,
            by=by,
        )
    meeting.refresh_from_db()
    meetings.finish_meeting(meeting=meeting, expected_version=meeting.version, by=by)
