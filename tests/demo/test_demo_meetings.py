"""The demo's tracker meetings (issue 11): two past meetings, finished, with attendees,
decisions (ratings confirmed and changed) and agreed actions, some still open; and the
next meeting, in the coming week, its agenda prepared."""

from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command

from dsr.core import dates
from dsr.core.verify import verify
from dsr.demo import data
from dsr.meetings.models import AgendaItem, Meeting, MeetingAction, MeetingStatus
from dsr.places.models import Place


def test_the_demo_has_two_past_meetings_and_one_being_prepared(db):
    call_command("load_demo")
    place = Place.objects.get(name=data.DEMO_PLACE)
    today = dates.today()
    first, second, coming = Meeting.objects.filter(place=place).order_by("held_on")
    # Two past meetings, finished, the second following on from the first
    for past in (first, second):
        assert past.status == MeetingStatus.FINISHED and past.held_on < today
        assert past.attendees.filter(absent=False).count() >= 4
        assert past.attendees.filter(absent=True).exists()
    assert second.previous == first and coming.previous == second
    # Their decisions: ratings confirmed and changed, dated the day of the meeting
    decided = AgendaItem.objects.filter(meeting__in=[first, second], discussed_at__isnull=False)
    assert {i.outcome for i in decided} == {"confirmed", "changed"}
    for item in decided.select_related("rating", "meeting"):
        assert item.rating.decided_on == item.meeting.held_on
        assert item.rating.context == "tracker_meeting"
        assert item.next_review_on >= item.meeting.held_on
    # And the actions they agreed: some done, some still open
    agreed = MeetingAction.objects.filter(item__meeting__in=[first, second])
    statuses = set(agreed.values_list("action__status", flat=True))
    assert {"done", "open"} <= statuses
    # Someone was not reached, and is carried to the next meeting
    assert AgendaItem.objects.filter(meeting=first, discussed_at__isnull=True).exists()
    # The next meeting: in the coming week, its agenda prepared, someone taken off with why
    assert coming.status == MeetingStatus.PREPARING
    assert today < coming.held_on <= today + timedelta(days=7)
    assert coming.agenda_built_at is not None
    items = AgendaItem.objects.filter(meeting=coming)
    assert items.filter(removed=False).count() > 10
    assert items.filter(removed=True).exclude(removed_reason="").count() == 1
    assert verify().intact
