"""The agenda the register builds (issue 11, part 2), with pinned dates: each reason a
person appears for, and the people who must not appear."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from dsr.actions import services as actions
from dsr.meetings.models import AgendaItem
from dsr.people import services as people
from dsr.risk import services as risk
from tests import factories
from tests.factories import SYSTEM
from tests.hospital.factories import admit, discharge
from tests.meetings.factories import confirm, finish, prepared, reasons, schedule, settled, start

pytestmark = pytest.mark.django_db

JANUARY = "2026-01-05 10:00:00+00:00"
LAST = date(2026, 2, 2)  # the last meeting
MEETING = date(2026, 3, 2)  # this one; the place looks 14 days past it


@pytest.fixture
def place(db):
    return factories.make_place("Agenda place", meeting_lookahead_days=14)


def on(day: str):
    return time_machine.travel(f"{day} 10:00:00+00:00", tick=False)


@pytest.fixture
def last_meeting(place):
    with on("2026-01-20"):
        meeting = prepared(place, LAST)
    with on("2026-02-02"):
        finish(start(meeting))
    return meeting


def test_everyone_red_or_blue_is_on_the_agenda(place, last_meeting):
    with time_machine.travel(JANUARY):
        red = factories.make_person(place, rating="R", family_name="Red")
        blue = factories.make_person(place, rating="B", family_name="Blue")
        green = settled(factories.make_person(place, rating="G", family_name="Green"))
    with on("2026-02-25"):
        meeting = prepared(place, MEETING)
    found = reasons(meeting)
    assert "red" in found[red.pk]
    assert found[blue.pk][0] == "blue"
    assert green.pk not in found  # Green, nothing due, nothing new: not discussed


def test_amber_is_on_the_agenda_only_when_their_review_falls_due(place, last_meeting):
    with time_machine.travel(JANUARY):
        due = settled(factories.make_person(place, rating="A", family_name="Due"))  # due 2 Feb
        not_yet = settled(factories.make_person(place, rating="G", family_name="Notyet"))
    with on("2026-02-25"):
        # Rated Amber on 25 February: review due 25 March, after 2 March + 14 days
        risk.rate(person=not_yet, rating="A", rationale="Placement wobbling", by=SYSTEM)
        meeting = prepared(place, MEETING)
    found = reasons(meeting)
    assert found[due.pk] == ["amber_review"]
    item = AgendaItem.objects.get(meeting=meeting, person=due)
    assert item.reasons[0]["text"] == "Amber, review overdue since 2 February 2026"
    assert not_yet.pk not in found


def test_people_added_referred_or_closed_since_the_last_meeting(place, last_meeting):
    with on("2026-02-02"):
        on_the_day = settled(factories.make_person(place, rating="G", family_name="Sameday"))
    with on("2026-02-10"):
        added = settled(factories.make_person(place, rating="G", family_name="Added"))
        referral = factories.make_referral(place, family_name="Waiting")
    with time_machine.travel(JANUARY):
        leaving = settled(factories.make_person(place, rating="G", family_name="Leaving"))
    with on("2026-02-20"):
        leaving.refresh_from_db()
        people.close_record(
            person=leaving,
            reason="risk_reduced",
            closed_on=date(2026, 2, 20),
            note="Stable for six months",
            expected_version=leaving.version,
            by=SYSTEM,
        )
    with on("2026-02-25"):
        meeting = prepared(place, MEETING)
    found = reasons(meeting)
    assert found[added.pk] == ["added"]
    assert found[leaving.pk] == ["closed"]
    assert on_the_day.pk not in found  # added on the last meeting's day: it saw them
    referral_item = AgendaItem.objects.get(meeting=meeting, referral=referral)
    assert referral_item.reasons == [
        {"code": "referral", "text": "Referral received 10 February 2026: new"}
    ]


def test_cetrs_due_or_overdue_and_stays_since_the_last_meeting(place, last_meeting):
    with time_machine.travel(JANUARY):
        red = factories.make_person(place, rating="R", family_name="Red")  # C(E)TR due 19 Jan
        inpatient = factories.make_person(place, rating="A", family_name="Inpatient")
        home = factories.make_person(place, rating="A", family_name="Home")
    with on("2026-02-10"):
        admit(inpatient, admitted_on=date(2026, 2, 10))
    with on("2026-01-10"):
        stay = admit(home, admitted_on=date(2026, 1, 10))
    with on("2026-02-16"):
        discharge(stay, on=date(2026, 2, 16))
    with on("2026-02-25"):
        meeting = prepared(place, MEETING)
    found = reasons(meeting)
    assert "cetr_overdue" in found[red.pk]
    # Admitted 10 February: a post-admission C(E)TR due within 14 days, so overdue by 2 March
    assert {"blue", "admitted", "cetr_overdue"} <= set(found[inpatient.pk])
    assert "discharged" in found[home.pk]
    assert "admitted" not in found[home.pk]  # admitted before the last meeting


def test_overdue_actions_transitions_and_early_warnings(place, last_meeting):
    with time_machine.travel(JANUARY):
        late = settled(factories.make_person(place, rating="G", family_name="Late"))
        turning = settled(
            factories.make_person(
                place, rating="G", family_name="Turning", date_of_birth=date(2008, 5, 1)
            )
        )
        warned = settled(factories.make_person(place, rating="G", family_name="Warned"))
        actions.open_action(
            person=late,
            description="Send the school's report",
            due_on=date(2026, 2, 20),
            source="other",
            owner_name="School SENCo",
            by=SYSTEM,
        )
    with on("2026-02-20"):
        risk.log_event(
            person=warned,
            kind="ae",
            occurred_on=date(2026, 2, 19),
            description="Attended A&E in crisis",
            by=SYSTEM,
        )
        meeting = prepared(place, MEETING)
    found = reasons(meeting)
    assert found[late.pk] == ["actions_overdue"]
    assert found[turning.pk] == ["transition"]  # 18 on 1 May 2026: within 6 months
    assert "rising_risk" in found[warned.pk]


def test_the_agenda_opens_with_what_the_last_meeting_left_open(place):
    with time_machine.travel(JANUARY):
        red = factories.make_person(place, rating="R", family_name="Red")
        amber = settled(factories.make_person(place, rating="A", family_name="Amber"))
    with on("2026-02-02"):
        last = prepared(place, LAST)
        start(last)
        confirm(
            last,
            amber,
            next_review_on=date(2026, 4, 1),
            agreed=[
                risk.AgreedAction("Book a respite break", date(2026, 3, 20), None, "Social worker")
            ],
        )
        finish(last)
        settled(amber)  # the confirmed rating's own prompts: not what this test is about
    with on("2026-02-25"):
        meeting = prepared(place, MEETING)
    found = reasons(meeting)
    assert "not_reached" in found[red.pk]  # on the last agenda, not discussed
    assert found[amber.pk] == ["previous_actions"]  # reviewed 1 April; its action is open


def test_a_rebuilt_agenda_keeps_the_coordinators_changes_and_drops_who_no_longer_fits(place):
    from dsr.meetings import services as meetings

    with time_machine.travel(JANUARY):
        red = factories.make_person(place, rating="R", family_name="Red")
        green = settled(factories.make_person(place, rating="G", family_name="Green"))
        calm = factories.make_person(place, rating="R", family_name="Calm")
    with on("2026-02-25"):
        meeting = prepared(place, MEETING)
        meetings.add_item(meeting=meeting, person=green, reason="School worried", by=SYSTEM)
        item = AgendaItem.objects.get(meeting=meeting, person=red)
        meetings.remove_item(
            item=item, reason="Discussed at the CETR", expected_version=item.version, by=SYSTEM
        )
        calm.refresh_from_db()
        risk.rate(person=calm, rating="G", rationale="Settled", by=SYSTEM)
        settled(calm)
        meetings.prepare_agenda(meeting=meeting, by=SYSTEM)
    items = {i.person_id: i for i in AgendaItem.objects.filter(meeting=meeting)}
    assert items[green.pk].removed is False and items[green.pk].added_reason == "School worried"
    assert items[red.pk].removed and items[red.pk].removed_reason == "Discussed at the CETR"
    assert items[calm.pk].removed, items[calm.pk].reasons
    assert items[calm.pk].removed_reason == "No rule puts them on the agenda any more"


def test_a_meetings_window_starts_at_the_meeting_before(place, last_meeting):
    with on("2026-02-25"):
        meeting = schedule(place, MEETING)
        first = schedule(place, date(2025, 11, 3))
    assert meeting.previous == last_meeting and meeting.since == LAST
    assert first.previous is None and first.since == date(2025, 10, 3)
    assert (MEETING - meeting.since) == timedelta(days=28)
