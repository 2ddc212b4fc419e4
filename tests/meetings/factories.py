"""Meetings for tests, built through the services (STYLE.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

from dsr.meetings import services as meetings
from dsr.meetings.models import AgendaItem, Meeting
from tests.factories import SYSTEM


def schedule(place: Any, held_on: date, **extra: Any) -> Meeting:
    return meetings.schedule_meeting(place=place, held_on=held_on, by=SYSTEM, **extra)


def prepared(place: Any, held_on: date, **extra: Any) -> Meeting:
    return meetings.prepare_agenda(meeting=schedule(place, held_on, **extra), by=SYSTEM)


def start(meeting: Meeting) -> Meeting:
    meeting.refresh_from_db()
    return meetings.start_meeting(meeting=meeting, expected_version=meeting.version, by=SYSTEM)


def finish(meeting: Meeting) -> Meeting:
    meeting.refresh_from_db()
    return meetings.finish_meeting(meeting=meeting, expected_version=meeting.version, by=SYSTEM)


def settled(person: Any) -> Any:
    """Every open action about the person done (a new rating's prompts among them) but
    those a meeting agreed, so that only the rule a test is about puts them on an agenda."""
    from dsr.actions import services as actions
    from dsr.actions.models import Action

    for action in Action.objects.open().filter(person=person).exclude(source="meeting"):
        actions.update_action(
            action=action, status="done", note="", expected_version=action.version, by=SYSTEM
        )
    return person


def item_for(meeting: Meeting, person: Any) -> AgendaItem:
    return AgendaItem.objects.get(meeting=meeting, person=person)


def reasons(meeting: Meeting) -> dict[int, list[str]]:
    """{person id: [reason codes]} of the items on the agenda."""
    return {
        item.person_id: [r["code"] for r in item.reasons]
        for item in AgendaItem.objects.filter(meeting=meeting, removed=False, person__isnull=False)
    }


def confirm(meeting: Meeting, person: Any, *, next_review_on: date, **extra: Any) -> AgendaItem:
    item = item_for(meeting, person)
    person.refresh_from_db()
    return meetings.record_discussion(
        item=item,
        expected_version=item.version,
        notes=extra.pop("notes", "Discussed; plan agreed"),
        outcome=extra.pop("outcome", "confirmed"),
        rating=extra.pop("rating", person.current_rating),
        next_review_on=next_review_on,
        by=SYSTEM,
        **extra,
    )
