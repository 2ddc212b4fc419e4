"""Running a tracker meeting through its services (issue 11, parts 1, 3 and 5): decisions
are ratings through the risk service with the meeting as their context; bad input and a
frozen agenda get a clear error and change nothing."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection  # noqa: F401 - the skipif conditions name it

from dsr.actions.models import Action
from dsr.core.models import AuditEvent, StaleVersion
from dsr.meetings import services as meetings
from dsr.meetings.models import AgendaItem, Attendee, Meeting, MeetingAction
from dsr.risk.models import Rating
from dsr.risk.services import AgreedAction
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import READS
from tests.meetings.factories import confirm, item_for, prepared, schedule, start

pytestmark = pytest.mark.django_db

MEETING = date(2026, 3, 2)
DAY = "2026-03-02 10:00:00+00:00"
JANUARY = "2026-01-05 10:00:00+00:00"


class Unchanged:
    """Nothing written: the meeting's rows, the ratings, the actions and the changes audited."""

    def __enter__(self):
        self.before = self.state()
        return self

    @staticmethod
    def state():
        return (
            list(Meeting.objects.order_by("id").values()),
            list(AgendaItem.objects.order_by("id").values()),
            list(Attendee.objects.order_by("id").values()),
            Rating.objects.count(),
            Action.objects.count(),
            MeetingAction.objects.count(),
            AuditEvent.objects.exclude(action__in=READS).count(),
        )

    def __exit__(self, *exc):
        assert self.state() == self.before


@pytest.fixture
def place(db):
    return factories.make_place("Meeting place")


@pytest.fixture
def red(place):
    with time_machine.travel(JANUARY):
        return factories.make_person(place, rating="R", family_name="Red")


@pytest.fixture
def running(place, red):
    with time_machine.travel(DAY):
        return start(prepared(place, MEETING))


@time_machine.travel(DAY)
def test_a_changed_rating_is_a_rating_through_the_risk_service_in_the_meetings_context(
    running, red
):
    item = item_for(running, red)
    meetings.record_discussion(
        item=item,
        expected_version=item.version,
        notes="Settled at home; crisis plan working",
        outcome="changed",
        rating="A",
        rationale="Two calm months",
        next_review_on=date(2026, 3, 16),
        agreed=[AgreedAction("Review the crisis plan", date(2026, 3, 9), None, "CAMHS")],
        by=SYSTEM,
    )
    red.refresh_from_db()
    item.refresh_from_db()
    decision = Rating.objects.filter(person=red).first()
    assert (decision.rating, decision.context, decision.decided_on) == (
        "A",
        "tracker_meeting",
        MEETING,
    )
    assert decision.review_due == date(2026, 3, 16)  # the meeting's date, not the interval's
    assert (red.current_rating, red.review_due) == ("A", date(2026, 3, 16))
    assert item.rating == decision and item.outcome == "changed"
    agreed = MeetingAction.objects.get(item=item).action
    assert (agreed.source, agreed.owner_name, agreed.due_on) == (
        "meeting",
        "CAMHS",
        date(2026, 3, 9),
    )
    # No "arrange a multi-agency meeting" prompt: this was one
    assert not Action.objects.filter(person=red, rule_key="amber_meeting", status="open").exists()


@time_machine.travel(DAY)
def test_a_confirmed_rating_must_be_the_current_one(running, red):
    item = item_for(running, red)
    with Unchanged(), pytest.raises(ValidationError) as error:
        meetings.record_discussion(
            item=item,
            expected_version=item.version,
            notes="Discussed",
            outcome="confirmed",
            rating="G",
            next_review_on=date(2026, 3, 9),
            by=SYSTEM,
        )
    assert "rating" in error.value.message_dict


@time_machine.travel(DAY)
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rating": ""}, "rating"),
        ({"outcome": ""}, "outcome"),
        ({"next_review_on": None}, "next_review_on"),
        ({"next_review_on": date(2026, 2, 1)}, "next_review_on"),
        ({"notes": "   "}, "notes"),
        ({"notes": "x" * 8001}, "notes"),
        (
            {"agreed": [AgreedAction("Call the school", date(2026, 3, 9), None, "")]},
            "action_0_owner_user",
        ),
        ({"agreed": [AgreedAction("Call the school", None, None, "SENCo")]}, "action_0_due_on"),
        ({"agreed": [AgreedAction("", date(2026, 3, 9), None, "SENCo")]}, "action_0_description"),
    ],
    ids=[
        "no rating",
        "no outcome",
        "no next review",
        "review before the meeting",
        "no notes",
        "notes too long",
        "action without owner",
        "action without due date",
        "action without description",
    ],
)
def test_a_decision_missing_what_it_needs_is_refused_and_nothing_is_written(
    running, red, change, field
):
    item = item_for(running, red)
    values = {
        "notes": "Discussed",
        "outcome": "confirmed",
        "rating": "R",
        "next_review_on": date(2026, 3, 9),
        "agreed": [],
        **change,
    }
    with Unchanged(), pytest.raises(ValidationError) as error:
        meetings.record_discussion(item=item, expected_version=item.version, by=SYSTEM, **values)
    assert field in error.value.message_dict


@time_machine.travel(DAY)
def test_the_agenda_is_frozen_once_the_meeting_starts(running, place, red):
    with time_machine.travel(JANUARY):
        green = factories.make_person(place, rating="G", family_name="Green")
    item = item_for(running, red)
    with Unchanged():
        for attempt in (
            lambda: meetings.prepare_agenda(meeting=running, by=SYSTEM),
            lambda: meetings.add_item(meeting=running, person=green, reason="Worried", by=SYSTEM),
            lambda: meetings.remove_item(
                item=item, reason="Seen at CETR", expected_version=item.version, by=SYSTEM
            ),
        ):
            with pytest.raises(ValidationError, match="The agenda is frozen"):
                attempt()


@time_machine.travel(DAY)
def test_a_decision_before_the_meeting_starts_or_twice_is_refused(place, red):
    meeting = prepared(place, MEETING)
    item = item_for(meeting, red)
    with Unchanged(), pytest.raises(ValidationError, match="not in progress"):
        confirm(meeting, red, next_review_on=date(2026, 3, 9))
    start(meeting)
    confirm(meeting, red, next_review_on=date(2026, 3, 9))
    item.refresh_from_db()
    with Unchanged(), pytest.raises(ValidationError, match="recorded already"):
        confirm(meeting, red, next_review_on=date(2026, 3, 9))


@time_machine.travel(DAY)
def test_a_stale_decision_is_refused(running, red):
    item = item_for(running, red)
    stale = item.version
    AgendaItem.objects.filter(pk=item.pk).update(version=stale + 1)  # another tab saved first
    with Unchanged(), pytest.raises(StaleVersion):
        meetings.record_discussion(
            item=item,
            expected_version=stale,
            notes="Discussed",
            outcome="confirmed",
            rating="R",
            next_review_on=date(2026, 3, 9),
            by=SYSTEM,
        )


@time_machine.travel("2026-02-20 10:00:00+00:00")
def test_a_meeting_starts_on_its_day_and_only_once_prepared(place):
    meeting = schedule(place, MEETING)
    with Unchanged(), pytest.raises(ValidationError, match="Prepare the agenda"):
        start(meeting)
    meetings.prepare_agenda(meeting=meeting, by=SYSTEM)
    with Unchanged(), pytest.raises(ValidationError, match="start it on the day"):
        start(meeting)


@time_machine.travel(DAY)
def test_one_meeting_a_day_and_chairs_from_the_place(place, place_b):
    schedule(place, MEETING)
    outsider = factories.make_user(place=place_b, role="coordinator")
    auditor = factories.make_user(place=place, role="auditor")
    with Unchanged():
        with pytest.raises(ValidationError, match="already a meeting"):
            schedule(place, MEETING)
        for who in (outsider, auditor):
            with pytest.raises(ValidationError) as error:
                schedule(place, date(2026, 4, 6), chair=who)
            assert "chair" in error.value.message_dict


@time_machine.travel(DAY)
def test_another_places_coordinator_cannot_run_this_places_meeting(running, red, place_b):
    from django.core.exceptions import PermissionDenied

    from dsr.core import audit

    outsider = factories.make_user(place=place_b, role="coordinator")
    by = audit.Context(actor=outsider, place_id=place_b.pk, role="coordinator")
    item = item_for(running, red)
    with Unchanged(), pytest.raises(PermissionDenied):
        meetings.record_discussion(
            item=item,
            expected_version=item.version,
            notes="x",
            outcome="confirmed",
            rating="R",
            next_review_on=date(2026, 3, 9),
            by=by,
        )


@time_machine.travel(DAY)
def test_attendees_are_kept_when_they_do_not_come(running, place):
    member = factories.make_user(place=place, role="partner")
    attendee = meetings.add_attendee(meeting=running, user=member, by=SYSTEM)
    named = meetings.add_attendee(meeting=running, name="Sam Jones", job_title="SENCo", by=SYSTEM)
    meetings.mark_absent(attendee=named, absent=True, by=SYSTEM)
    assert Attendee.objects.get(pk=named.pk).absent
    with pytest.raises(ValidationError, match="already an attendee"):
        meetings.add_attendee(meeting=running, user=member, by=SYSTEM)
    with pytest.raises(ValidationError):
        meetings.add_attendee(meeting=running, by=SYSTEM)
    assert attendee.label.startswith(member.full_name)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_racing_decisions_on_one_person_record_one_and_a_start_queues_behind_an_add():
    import threading

    from django.db import connections

    from dsr.core.verify import verify

    place = factories.make_place("Busy meeting")
    person = factories.make_person(place, rating="R")
    green = factories.make_person(place, rating="G")
    meeting = prepared(place, date.today())
    item = item_for(meeting, person)
    start(meeting)
    go = threading.Barrier(6)
    outcomes: list[str] = []

    def decide(n: int) -> None:
        try:
            go.wait()
            meetings.record_discussion(
                item=AgendaItem.objects.get(pk=item.pk),
                expected_version=item.version,
                notes=f"Tab {n}",
                outcome="changed",
                rating="A",
                next_review_on=date.today(),
                by=SYSTEM,
            )
            outcomes.append("recorded")
        except (ValidationError, StaleVersion) as error:
            outcomes.append(type(error).__name__)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("recorded") == 1
    assert Rating.objects.filter(person=person, context="tracker_meeting").count() == 1
    # And once started, an add from a tab opened before the start is refused
    with pytest.raises(ValidationError, match="frozen"):
        meetings.add_item(meeting=meeting, person=green, reason="Late", by=SYSTEM)
    assert verify().intact


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_moving_a_meeting_onto_a_date_being_scheduled_is_a_clear_refusal():
    """Found by a review: scheduling queued on the place's row, a move did not. Moving a
    meeting onto the date another was being scheduled for met it at the unique index, a
    deadlock at commit (the new meeting's `previous` waited on the moving one): a 500. Now
    the move queues first, then finds the date taken."""
    import threading
    from datetime import timedelta

    from django.db import transaction

    from dsr.core import dates
    from tests.helpers import in_threads, until_someone_waits_on_a_lock

    place = factories.make_place("Racing meetings")
    wanted = dates.today() + timedelta(days=30)
    moving = meetings.schedule_meeting(
        place=place, held_on=dates.today() + timedelta(days=10), by=SYSTEM
    )
    scheduled = threading.Event()
    outcome: dict[str, object] = {}

    def schedule() -> None:
        with transaction.atomic():
            meetings.schedule_meeting(place=place, held_on=wanted, by=SYSTEM)
            scheduled.set()
            until_someone_waits_on_a_lock(within_seconds=20)
        outcome["schedule"] = "saved"

    def move() -> None:
        scheduled.wait(20)
        try:
            meetings.update_meeting(
                meeting=moving,
                expected_version=moving.version,
                venue="",
                chair=None,
                minute_taker=None,
                held_on=wanted,
                by=SYSTEM,
            )
            outcome["move"] = "saved"
        except ValidationError as refusal:
            outcome["move"] = refusal.message_dict

    assert in_threads(lambda n: (schedule, move)[n](), count=2) == []
    assert outcome == {
        "schedule": "saved",
        "move": {"held_on": ["There is already a meeting on that date"]},
    }


@time_machine.travel(DAY)
def test_the_decisions_event_names_every_field_it_wrote(running, red):
    """An IG review: the event named the outcome and the actions, not the notes written nor
    the next review set; the audit page said "Fields: actions, outcome"."""
    item = confirm(running, red, next_review_on=date(2026, 3, 9), notes="Mum says X")
    event = AuditEvent.objects.filter(object_type="AgendaItem", object_id=str(item.pk)).latest("pk")
    assert event.changes["notes"] == ["", "written"] and "Mum says" not in str(event.changes)
    assert event.changes["next_review_on"] == [None, "2026-03-09"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_a_rating_made_while_the_meeting_confirms_the_old_one_is_not_overwritten(running, red):
    """A review: the meeting compared the rating it confirmed with the person's row read
    unlocked. A rating made meanwhile (Amber) was then overwritten by "Red, confirmed at the
    tracker meeting", which nobody had decided over it. Now the person is locked first, and
    the meeting is told the rating is no longer the one it confirms."""
    import threading

    from django.db import transaction

    from dsr.risk import services as risk
    from tests.helpers import in_threads, until_someone_waits_on_a_lock

    item = item_for(running, red)
    rated = threading.Event()
    outcome: dict[str, object] = {}

    def rate_amber() -> None:
        with transaction.atomic():
            risk.rate(person=red, rating="A", rationale="Calmer this week", by=SYSTEM)
            rated.set()
            until_someone_waits_on_a_lock(within_seconds=20)

    def confirm_red() -> None:
        rated.wait(20)
        try:
            meetings.record_discussion(
                item=item,
                expected_version=item.version,
                notes="Discussed",
                outcome="confirmed",
                rating="R",
                next_review_on=date(2026, 3, 9),
                by=SYSTEM,
            )
            outcome["meeting"] = "recorded"
        except ValidationError as refusal:
            outcome["meeting"] = refusal.message_dict

    with time_machine.travel(DAY):
        assert in_threads(lambda n: (rate_amber, confirm_red)[n](), count=2) == []
    red.refresh_from_db()
    assert red.current_rating == "A"
    assert outcome["meeting"] == {
        "rating": ["A confirmed rating is the current one: choose 'Rating changed'"]
    }
