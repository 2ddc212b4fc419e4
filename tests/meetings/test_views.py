"""The meeting pages as a coordinator, a keyworker and a partner use them: preparing an
agenda, running the meeting person by person, and what each role may see or do."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from dsr.core.access import Role
from dsr.meetings.models import AgendaItem, Meeting, MeetingAction
from dsr.risk.models import Rating
from tests import factories
from tests.helpers import at, count_queries, error_messages
from tests.meetings.factories import item_for, prepared, settled, start

pytestmark = pytest.mark.django_db

DAY = "2026-03-02 10:00:00+00:00"
JANUARY = "2026-01-05 10:00:00+00:00"


def people(place, *ratings):
    with time_machine.travel(JANUARY):
        return [
            factories.make_person(place, rating=r, family_name=f"Family{i}", given_name="Kim")
            for i, r in enumerate(ratings)
        ]


def meeting_at(meeting, name, *args):
    return at(meeting.place, name, meeting.pk, *args)


@time_machine.travel(DAY)
def test_a_coordinator_prepares_runs_and_finishes_a_meeting(coordinator, place_a, cast):
    first, second = people(place_a, "R", "B")
    response = coordinator.post(
        at(place_a, "meetings:new"),
        {
            "held_on_day": "2",
            "held_on_month": "3",
            "held_on_year": "2026",
            "venue": "Room 4",
            "chair": cast[Role.COORDINATOR].pk,
        },
    )
    meeting = Meeting.objects.get(place=place_a)
    assert response["Location"] == meeting_at(meeting, "meetings:meeting")
    coordinator.post(meeting_at(meeting, "meetings:prepare"), {"version": meeting.version})
    page = coordinator.get(meeting_at(meeting, "meetings:meeting")).content.decode()
    assert "FAMILY0, Kim" in page and "Rated Red since 5 January 2026" in page
    assert "Rated Blue (in hospital)" in page
    meeting.refresh_from_db()
    response = coordinator.post(meeting_at(meeting, "meetings:start"), {"version": meeting.version})
    first_item = item_for(meeting, first)
    assert response["Location"] == meeting_at(meeting, "meetings:item", first_item.pk)
    page = coordinator.get(response["Location"]).content.decode()
    assert "Key safety information" in page and "1 of 2" in page
    # The decision: a changed rating, an action, the next review; on to the next person
    response = coordinator.post(
        response["Location"],
        {
            "notes": "Much calmer since the new school placement",
            "outcome": "changed",
            "rating": "A",
            "next_review_on_day": "16",
            "next_review_on_month": "3",
            "next_review_on_year": "2026",
            "action_0_description": "Share the positive behaviour plan",
            "action_0_owner_name": "School SENCo",
            "action_0_due_on_day": "9",
            "action_0_due_on_month": "3",
            "action_0_due_on_year": "2026",
            "version": first_item.version,
        },
    )
    assert response["Location"] == meeting_at(
        meeting, "meetings:item", item_for(meeting, second).pk
    )
    assert Rating.objects.filter(person=first).first().context == "tracker_meeting"
    assert MeetingAction.objects.filter(item__meeting=meeting).count() == 1
    meeting.refresh_from_db()
    coordinator.post(meeting_at(meeting, "meetings:finish"), {"version": meeting.version})
    meeting.refresh_from_db()
    assert meeting.status == "finished"
    page = coordinator.get(meeting_at(meeting, "meetings:meeting")).content.decode()
    assert "Rating changed: Amber" in page and "Not yet discussed" in page


@time_machine.travel(DAY)
def test_a_decision_without_a_rating_or_an_owner_is_refused_on_the_page(coordinator, place_a):
    (person,) = people(place_a, "R")
    meeting = start(prepared(place_a, date(2026, 3, 2)))
    item = item_for(meeting, person)
    response = coordinator.post(
        meeting_at(meeting, "meetings:item", item.pk),
        {
            "notes": "Discussed",
            "outcome": "changed",
            "next_review_on_day": "16",
            "next_review_on_month": "3",
            "next_review_on_year": "2026",
            "action_0_description": "Call the family",
            "version": item.version,
        },
    )
    assert response.status_code == 200
    problems = error_messages(response)
    assert "Select the rating the meeting agreed" in problems
    assert "Choose who owns this action" in problems
    assert "Enter the action's due date" in problems
    item.refresh_from_db()
    assert not item.is_discussed and Rating.objects.filter(person=person).count() == 1


@time_machine.travel(DAY)
def test_a_coordinator_adds_someone_from_their_record_and_takes_someone_off(coordinator, place_a):
    red, green = people(place_a, "R", "G")
    settled(green)  # nothing overdue: no rule puts them on the agenda
    meeting = prepared(place_a, date(2026, 3, 9))
    record = coordinator.get(at(green, "register:person")).content.decode()
    assert "Add to the agenda of the meeting on 9 March 2026" in record
    coordinator.post(
        meeting_at(meeting, "meetings:item_new") + f"?person={green.pk}",
        {"person": green.pk, "reason": "School exclusion threatened"},
    )
    item = item_for(meeting, red)
    response = coordinator.post(
        meeting_at(meeting, "meetings:item_remove", item.pk),
        {"reason": "", "version": item.version},
    )
    assert error_messages(response) == ["Enter why"]
    coordinator.post(
        meeting_at(meeting, "meetings:item_remove", item.pk),
        {"reason": "Reviewed at the CETR last week", "version": item.version},
    )
    page = coordinator.get(meeting_at(meeting, "meetings:meeting")).content.decode()
    assert "Added by the coordinator: School exclusion threatened" in page
    assert "Reviewed at the CETR last week" in page
    assert AgendaItem.objects.get(pk=item.pk).removed


@time_machine.travel(DAY)
def test_a_partner_sees_only_the_items_about_people_in_their_network(client_for, cast, place_a):
    mine, theirs = people(place_a, "R", "R")
    factories.in_network(mine, cast[Role.PARTNER])
    meeting = prepared(place_a, date(2026, 3, 2))
    partner = client_for(Role.PARTNER)
    page = partner.get(meeting_at(meeting, "meetings:meeting")).content.decode()
    assert "FAMILY0, Kim" in page and "FAMILY1" not in page
    assert "1 other item is not shown to you" in page
    other = item_for(meeting, theirs)
    assert partner.get(meeting_at(meeting, "meetings:item", other.pk)).status_code == 404
    assert partner.post(meeting_at(meeting, "meetings:prepare"), {"version": 1}).status_code == 404


@time_machine.travel(DAY)
def test_another_places_meeting_is_not_found(client_for, place_a, place_b):
    (person,) = people(place_b, "R")
    meeting = prepared(place_b, date(2026, 3, 2))
    item = item_for(meeting, person)
    outsider_here = client_for(Role.COORDINATOR)
    for name, args in (("meetings:meeting", ()), ("meetings:item", (item.pk,))):
        url = at(place_a, name, meeting.pk, *args)
        assert outsider_here.get(url).status_code == 404


@time_machine.travel(DAY)
def test_the_agenda_page_reads_in_a_bounded_number_of_queries(coordinator, place_a):
    prepared(place_a, date(2026, 2, 2))  # so that both have a meeting before them
    people(place_a, "R", "B", "A")
    few = prepared(place_a, date(2026, 3, 2))
    people(place_a, *"RRBBAAAAAA" * 20)  # 200 more
    many = prepared(place_a, date(2026, 3, 9))

    def read(meeting):
        url = meeting_at(meeting, "meetings:meeting")
        return lambda: coordinator.get(url)

    read(few)()  # the navigation's My work count, kept a minute, is not the agenda's
    assert count_queries(read(many)) == count_queries(read(few)) <= 19
    assert AgendaItem.objects.filter(meeting=many).count() >= 200


@time_machine.travel(DAY)
def test_a_long_agenda_is_shown_fifty_at_a_time_and_each_page_records_only_its_people(
    coordinator, place_a
):
    from dsr.core.models import AuditEvent, AuditShown

    people(place_a, *"RB" * 60)
    meeting = prepared(place_a, date(2026, 3, 9))
    url = meeting_at(meeting, "meetings:meeting")
    order = list(
        AgendaItem.objects.filter(meeting=meeting, removed=False)
        .order_by("position", "id")
        .values_list("person_id", flat=True)
    )
    assert len(order) == 120

    def shown_on(page):
        before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
        body = coordinator.get(url, {"page": page}).content.decode()
        event = AuditEvent.objects.get(id__gt=before, changes__page="tracker meeting")
        return body, set(AuditShown.objects.filter(event=event).values_list("person_id", flat=True))

    body, shown = shown_on(1)
    assert "120 items. This page shows 1 to 50." in body
    assert shown == set(order[:50])
    assert "Page 2 of 3" in body
    body, shown = shown_on(3)
    assert "This page shows 101 to 120." in body
    assert shown == set(order[100:])
    assert "Page 2 of 3" in body and "Page 4" not in body
    _, shown = shown_on("9999")  # past the end: the last page, as the register's list does
    assert shown == set(order[100:])


@time_machine.travel(DAY)
def test_hostile_input_to_a_running_meetings_decision_form_never_errors_or_half_writes(
    coordinator, place_a
):
    """The fuzz walk (tests/test_fuzz.py) meets a finished meeting; this one is running."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.test_fuzz import MEETING_DECISION_FIELDS, snapshot, values

    (person,) = people(place_a, "R")
    meeting = start(prepared(place_a, date(2026, 3, 2)))
    item = item_for(meeting, person)
    url = meeting_at(meeting, "meetings:item", item.pk)
    valid = {
        "notes": "Discussed",
        "outcome": "confirmed",
        "rating": "R",
        "next_review_on_day": "9",
        "next_review_on_month": "3",
        "next_review_on_year": "2026",
        "version": str(item.version),
    }

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.sampled_from(MEETING_DECISION_FIELDS), values, max_size=6))
    def hostile(posted):
        before = snapshot()
        response = coordinator.post(url, {**valid, **posted})
        assert response.status_code in {200, 302}
        if response.status_code == 200:
            assert snapshot() == before
        else:  # it went through: undo nothing, but the next example starts afresh
            AgendaItem.objects.filter(pk=item.pk).update(
                discussed_at=None, outcome="", rating=None, notes=""
            )

    hostile()


@time_machine.travel(DAY)
def test_a_person_in_the_meeting_reads_in_a_bounded_number_of_queries(coordinator, place_a):
    few_people = people(place_a, "R", "B", "A")
    few = start(prepared(place_a, date(2026, 2, 23)))
    people(place_a, *"RRBBAAAAAA" * 20)  # 200 more
    many = start(prepared(place_a, date(2026, 3, 2)))

    def read(meeting):
        url = meeting_at(meeting, "meetings:item", item_for(meeting, few_people[0]).pk)
        return lambda: coordinator.get(url)

    read(few)()  # the navigation's My work count, kept a minute
    assert count_queries(read(many)) == count_queries(read(few)) <= 25


@time_machine.travel(DAY)
def test_an_impossible_person_id_to_add_is_a_plain_404(coordinator, place_a):
    meeting = prepared(place_a, date(2026, 3, 9))
    for bad in ("9" * 5000, "99999999999999999999", "١٢", "-1", "1e5"):
        url = meeting_at(meeting, "meetings:item_new")
        assert coordinator.get(url, {"person": bad}).status_code == 404, bad
        assert coordinator.post(url, {"person": bad, "reason": "x"}).status_code == 404, bad


def _details_page(place, cast):
    """A meeting scheduled on 20 March, its details page, and the form as that page sends it."""
    from dsr.meetings import services
    from tests.factories import SYSTEM

    meeting = services.schedule_meeting(
        place=place, held_on=date(2026, 3, 20), chair=cast[Role.COORDINATOR], by=SYSTEM
    )
    body = {
        "held_on_day": "20",
        "held_on_month": "3",
        "held_on_year": "2026",
        "chair": str(cast[Role.COORDINATOR].pk),
        "minute_taker": "",
        "version": str(meeting.version),
    }
    return meeting, meeting_at(meeting, "meetings:edit"), body


@time_machine.travel(DAY)
def test_meeting_details_saved_in_another_tab_name_only_what_differs(coordinator, place_a, cast):
    """changed_meanwhile compares a record chosen (the chair, typed) with its id (saved): the
    chair both tabs left as it was is not named as changed."""
    _meeting, url, body = _details_page(place_a, cast)
    assert coordinator.post(url, body | {"venue": "Room 1"}).status_code == 302
    refused = coordinator.post(url, body | {"venue": "Room 2"})
    [message] = [m for m in error_messages(refused) if "Someone else saved this" in m]
    assert "Where: Room 1" in message and "Chair" not in message


@time_machine.travel(DAY)
def test_meeting_details_sent_twice_say_saved_already(coordinator, place_a, cast):
    """A double click on an edit form: the second send finds the version moved on by the
    first, with every value as typed. Nobody else saved, and the page does not say so."""
    meeting, url, body = _details_page(place_a, cast)
    body["venue"] = "Room 1"
    assert coordinator.post(url, body).status_code == 302
    again = coordinator.post(url, body)
    assert error_messages(again) == [
        "This is saved already as you entered it. There is nothing more to save"
    ]
    meeting.refresh_from_db()
    assert meeting.venue == "Room 1" and meeting.version == int(body["version"]) + 1
