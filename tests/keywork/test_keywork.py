"""Keyworkers: eligibility by the place's settings, allocation with history, a keyworker is
not a caseholder, contacts with follow-ups as shared actions, caseloads (DOMAIN.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from dsr.actions.models import Action, ActionStatus
from dsr.core import dates
from dsr.core.access import Role
from dsr.keywork import services as keywork
from dsr.keywork.models import Allocation
from dsr.people import services as people
from tests import factories
from tests.factories import SYSTEM, born_years_ago
from tests.helpers import at, count_queries


def with_professional(person):
    return people.add_network_member(
        person=person, name="Ola SENCO", job_title="SENCO", started_on=dates.today(), by=SYSTEM
    )


def test_allocation_is_refused_while_no_other_professional_is_in_the_network(cast, place_a):
    person = factories.make_person(place_a, rating="A")
    people.add_network_member(
        person=person,
        kind="family",
        name="Mum",
        relationship="parent",
        started_on=dates.today(),
        by=SYSTEM,
    )
    with pytest.raises(ValidationError, match="not a caseholder"):
        keywork.allocate_keyworker(person=person, keyworker=cast[Role.KEYWORKER], by=SYSTEM)
    assert not Allocation.objects.exists()
    with_professional(person)
    assert keywork.allocate_keyworker(person=person, keyworker=cast[Role.KEYWORKER], by=SYSTEM)


@pytest.mark.parametrize(
    ("rating", "age", "eligible"),
    [("R", 10, True), ("A", 24, True), ("B", 17, True), ("G", 10, False), ("R", 25, False)],
)
def test_eligibility_is_the_places_ages_and_ratings(cast, place_a, rating, age, eligible):
    person = factories.make_person(
        place_a, rating=rating, date_of_birth=born_years_ago(min(age, 24))
    )
    if age == 25:
        place_a.settings.keyworker_max_age = 24
        place_a.settings.save()
        person.refresh_from_db()
    with_professional(person)
    if eligible:
        keywork.allocate_keyworker(person=person, keyworker=cast[Role.KEYWORKER], by=SYSTEM)
    else:
        with pytest.raises(ValidationError, match="Not eligible"):
            keywork.allocate_keyworker(person=person, keyworker=cast[Role.KEYWORKER], by=SYSTEM)


def test_green_becomes_eligible_when_the_place_says_so(cast, place_a):
    place_a.settings.keyworker_ratings = "RAGB"
    place_a.settings.save()
    person = factories.make_person(place_a, rating="G")
    with_professional(person)
    assert keywork.allocate_keyworker(person=person, keyworker=cast[Role.KEYWORKER], by=SYSTEM)


def test_only_the_places_keyworkers_can_be_allocated(cast, place_a, place_b):
    person = factories.make_person(place_a, rating="R")
    with_professional(person)
    for wrong in (cast[Role.PARTNER], factories.make_user(place=place_b, role=Role.KEYWORKER)):
        with pytest.raises(ValidationError, match="keyworker of this place"):
            keywork.allocate_keyworker(person=person, keyworker=wrong, by=SYSTEM)


def test_reallocation_ends_the_previous_allocation_and_keeps_the_history(cast, place_a):
    person = factories.make_person(place_a, rating="R")
    with_professional(person)
    first = keywork.allocate_keyworker(
        person=person,
        keyworker=cast[Role.KEYWORKER],
        started_on=dates.today() - timedelta(days=40),
        by=SYSTEM,
    )
    other = factories.make_user(place=place_a, role=Role.KEYWORKER, full_name="Kit Other")
    second = keywork.allocate_keyworker(person=person, keyworker=other, by=SYSTEM)
    first.refresh_from_db()
    assert first.ended_on == dates.today() and "Reallocated" in first.end_reason
    assert second.is_current
    assert list(Allocation.objects.filter(person=person).order_by("id")) == [first, second]
    with pytest.raises(ValidationError, match="already their keyworker"):
        keywork.allocate_keyworker(person=person, keyworker=other, by=SYSTEM)


def test_allocating_completes_the_ratings_keyworker_prompt(cast, place_a):
    person = factories.make_person(place_a, rating="R")  # Red opens "refer for a keyworker"
    prompt = Action.objects.get(person=person, rule_key="keyworker_referral")
    assert prompt.status == ActionStatus.OPEN
    with_professional(person)
    keywork.allocate_keyworker(person=person, keyworker=cast[Role.KEYWORKER], by=SYSTEM)
    prompt.refresh_from_db()
    assert prompt.status == ActionStatus.DONE


def test_the_last_other_professional_cannot_leave_while_a_keyworker_is_allocated(cast, place_a):
    person = factories.make_person(place_a, rating="R")
    senco = with_professional(person)
    allocation = keywork.allocate_keyworker(
        person=person, keyworker=cast[Role.KEYWORKER], by=SYSTEM
    )
    with pytest.raises(ValidationError, match="not a caseholder"):
        people.end_network_member(
            member=senco, ended_on=dates.today(), expected_version=senco.version, by=SYSTEM
        )
    keywork.end_allocation(
        allocation=allocation,
        ended_on=dates.today(),
        reason="Rated Green",
        expected_version=allocation.version,
        by=SYSTEM,
    )
    senco.refresh_from_db()
    people.end_network_member(
        member=senco, ended_on=dates.today(), expected_version=senco.version, by=SYSTEM
    )


def test_a_contact_and_its_follow_ups_become_shared_actions_with_owners(cast, place_a):
    person = factories.make_person(place_a, rating="A")
    senco = with_professional(person)
    partner_member = people.add_network_member(
        person=person,
        name="Pat Partner",
        user=cast[Role.PARTNER],
        started_on=dates.today(),
        by=SYSTEM,
    )
    keywork.allocate_keyworker(person=person, keyworker=cast[Role.KEYWORKER], by=SYSTEM)
    soon = dates.today() + timedelta(days=7)
    contact = keywork.log_contact(
        person=person,
        contacted_on=dates.today(),
        kind="visit",
        with_whom="Mum and Robin",
        summary="Talked about the school plan",
        follow_ups=[
            keywork.FollowUp("Ask school for a reduced timetable", soon, owner_member=senco),
            keywork.FollowUp("Share the CAMHS plan", soon, owner_member=partner_member),
            keywork.FollowUp("Visit again", soon, owner_user=cast[Role.KEYWORKER]),
        ],
        by=SYSTEM,
    )
    made = {
        a.description: a
        for a in Action.objects.filter(source="keywork", source_ref=f"contact:{contact.pk}")
    }
    assert made["Ask school for a reduced timetable"].owner_name == "Ola SENCO (SENCO)"
    assert made["Share the CAMHS plan"].owner_user == cast[Role.PARTNER]  # the partner updates it
    assert made["Visit again"].owner_user == cast[Role.KEYWORKER]


def test_a_follow_up_owner_must_be_in_the_network_now(cast, place_a):
    person = factories.make_person(place_a, rating="A")
    senco = with_professional(person)
    senco_again = with_professional(person)
    people.end_network_member(
        member=senco, ended_on=dates.today(), expected_version=senco.version, by=SYSTEM
    )
    with pytest.raises(ValidationError, match="now in the care network"):
        keywork.log_contact(
            person=person,
            contacted_on=dates.today(),
            kind="phone",
            with_whom="Mum",
            summary="Call",
            follow_ups=[keywork.FollowUp("Do it", dates.today(), owner_member=senco)],
            by=SYSTEM,
        )
    assert senco_again.pk  # the other professional is still there


def test_the_caseload_shows_last_contact_and_marks_overdue_by_the_setting(
    client_for, cast, place_a
):
    place_a.settings.keyworker_contact_days = 10
    place_a.settings.save()
    keyworker = cast[Role.KEYWORKER]
    recent, stale = (factories.make_person(place_a, rating="R") for _ in range(2))
    for person, days in ((recent, 3), (stale, 12)):
        with_professional(person)
        keywork.allocate_keyworker(
            person=person,
            keyworker=keyworker,
            started_on=dates.today() - timedelta(days=30),
            by=SYSTEM,
        )
        keywork.log_contact(
            person=person,
            contacted_on=dates.today() - timedelta(days=days),
            kind="phone",
            with_whom="Mum",
            summary="Call",
            by=SYSTEM,
        )
    page = client_for(Role.KEYWORKER).get(at(place_a, "keywork:caseload", keyworker.pk))
    body = page.content.decode()
    assert "<strong>2</strong> people" in body
    assert "<strong>1</strong> with contact overdue (more than 10 days)" in body
    assert "12 days ago" in body and "Overdue" in body


def test_a_keyworker_sees_only_their_own_caseload(client_for, cast, place_a):
    other = factories.make_user(place=place_a, role=Role.KEYWORKER)
    client = client_for(Role.KEYWORKER)
    assert client.get(at(place_a, "keywork:caseload", other.pk)).status_code == 404
    own = client.get(at(place_a, "keywork:caseloads"))
    assert own.status_code == 302 and own["Location"].endswith(
        f"/caseloads/{cast[Role.KEYWORKER].pk}/"
    )
    # a coordinator sees every caseload, with counts, and who is waiting for a keyworker
    waiting = factories.make_person(place_a, rating="R", given_name="Waiting")
    overview = client_for(Role.COORDINATOR).get(at(place_a, "keywork:caseloads")).content.decode()
    assert "Eligible, with no keyworker (1)" in overview and "Waiting" in overview
    assert waiting.pk


def test_a_keyworkers_contacts_due_are_in_their_my_work(client_for, cast, place_a):
    with time_machine.travel(dates.today() - timedelta(days=40)):
        person = factories.make_person(place_a, rating="R", given_name="Overdue")
        with_professional(person)
        keywork.allocate_keyworker(person=person, keyworker=cast[Role.KEYWORKER], by=SYSTEM)
    body = client_for(Role.KEYWORKER).get(at(place_a, "work:my_work")).content.decode()
    assert "Make first contact as their keyworker" in body and "Overdue" in body


def test_caseload_queries_do_not_grow_with_the_caseload(client_for, cast, place_a):
    client = client_for(Role.KEYWORKER)
    url = at(place_a, "keywork:caseload", cast[Role.KEYWORKER].pk)

    def add(n):
        for _ in range(n):
            person = factories.make_person(place_a, rating="R")
            with_professional(person)
            keywork.allocate_keyworker(person=person, keyworker=cast[Role.KEYWORKER], by=SYSTEM)
            keywork.log_contact(
                person=person,
                contacted_on=dates.today(),
                kind="phone",
                with_whom="Mum",
                summary="Call",
                by=SYSTEM,
            )

    add(1)
    client.get(url)
    first = count_queries(lambda: client.get(url))
    add(15)
    assert count_queries(lambda: client.get(url)) == first <= 13
    coordinator = client_for(Role.COORDINATOR)
    overview = at(place_a, "keywork:caseloads")
    coordinator.get(overview)
    before = count_queries(lambda: coordinator.get(overview))
    add(5)
    assert count_queries(lambda: coordinator.get(overview)) == before <= 12


def test_the_inpatient_overview_names_each_inpatients_keyworker(client_for, cast, place_a):
    from tests.hospital.factories import admit

    with_keyworker = factories.make_person(place_a, rating="A", family_name="Allocated")
    with_professional(with_keyworker)
    keywork.allocate_keyworker(person=with_keyworker, keyworker=cast[Role.KEYWORKER], by=SYSTEM)
    without = factories.make_person(place_a, rating="A", family_name="Unallocated")
    admit(with_keyworker)
    admit(without)
    body = client_for(Role.VIEWER).get(at(place_a, "hospital:inpatients")).content.decode()
    rows = {
        name: body.split(name.upper())[1].split("</tr>")[0] for name in ("Allocated", "Unallocated")
    }
    assert cast[Role.KEYWORKER].full_name in rows["Allocated"]
    assert "Keyworker: none allocated" in rows["Unallocated"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_reallocating_while_the_same_allocation_is_ended_is_a_clear_refusal_not_a_deadlock():
    """Found by a review: allocate_keyworker locked the person, then the allocation;
    end_allocation the allocation, then the person. Meeting halfway, PostgreSQL aborted
    one with a deadlock (a 500). Now both lock the person first: the second waits, then
    finds the allocation already ended (someone changed it)."""
    import threading

    from dsr.core.models import StaleVersion
    from dsr.people.models import Person
    from tests.helpers import in_threads, until_someone_waits_on_a_lock

    place = factories.make_place("Racing keyworkers")
    person = factories.make_person(place, rating="R")
    with_professional(person)
    first = factories.make_user(place=place, role=Role.KEYWORKER)
    second = factories.make_user(place=place, role=Role.KEYWORKER)
    allocation = keywork.allocate_keyworker(person=person, keyworker=first, by=SYSTEM)
    holds_the_person = threading.Event()
    outcome: dict[str, object] = {}

    def reallocate() -> None:
        def pause(execute, sql, params, many, context):  # holding the person, before the rest
            if 'FROM "keywork_allocation"' in sql and "FOR UPDATE" in sql:
                holds_the_person.set()
                until_someone_waits_on_a_lock(within_seconds=20)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(pause):
            keywork.allocate_keyworker(
                person=Person.objects.get(pk=person.pk), keyworker=second, by=SYSTEM
            )
        outcome["reallocate"] = "saved"

    def end() -> None:
        holds_the_person.wait(20)
        try:
            keywork.end_allocation(
                allocation=allocation,
                ended_on=dates.today(),
                reason="Family moved on",
                expected_version=allocation.version,
                by=SYSTEM,
            )
            outcome["end"] = "saved"
        except StaleVersion:
            outcome["end"] = "changed by someone else"

    assert in_threads(lambda n: (reallocate, end)[n](), count=2) == []
    assert outcome == {"reallocate": "saved", "end": "changed by someone else"}
    assert Allocation.objects.current().get(person=person).keyworker == second
