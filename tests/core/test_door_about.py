"""`Door.about` for a person the people door has given the viewer: the same rows as the
door's full scope, without joining the person again (people/scoping.py `follows_person`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import EmptyResultSet
from django.http import Http404

from dsr.consent import services as consent
from dsr.core import audit, dates
from dsr.core.access import Role
from dsr.core.door import DOORS, Viewer
from dsr.keywork import services as keywork
from dsr.people.models import Person
from dsr.people.scoping import NETWORK, PEOPLE
from dsr.places.models import Membership
from tests import factories
from tests.factories import SYSTEM
from tests.meetings import factories as meetings
from tests.people.test_query_counts import _add_to_the_record

# The query's own join to the person (a subquery's has an alias: "people_person" U2 ON).
PERSON_JOINED = 'JOIN "people_person" ON'
NARROWED = [door for door in DOORS.values() if door._about_scope is not None]


def viewer_of(user) -> Viewer:
    membership = Membership.objects.select_related("place").get(user=user)
    return Viewer(
        membership=membership,
        context=audit.Context(actor=user, place_id=membership.place_id, actor_label="t"),
    )


def sql(queryset) -> str:
    try:
        return str(queryset.query)
    except EmptyResultSet:  # `none()`: no statement at all
        return ""


def rows(queryset) -> set[int]:
    return {record.pk for record in queryset}


@pytest.fixture
def people(cast, place_a, place_b):
    """Three people in place A with something of everything (the partner is in the first
    two's care networks; the second has withdrawn consent), and one in place B."""
    partner = cast[Role.PARTNER]
    made = {}
    for name in ("networked", "withdrawn", "apart"):
        person = factories.make_person(place_a, rating="R")
        _add_to_the_record(person, place_a, 2)
        keywork.allocate_keyworker(
            person=person,
            keyworker=cast[Role.KEYWORKER],
            started_on=dates.today() - timedelta(days=3),
            by=SYSTEM,
        )
        made[name] = person
    factories.in_network(made["networked"], partner)
    factories.in_network(made["withdrawn"], partner)
    consent.withdraw_consent(
        person=made["withdrawn"], withdrawn_on=dates.today(), withdrawn_by="Mum", by=SYSTEM
    )
    meetings.prepared(place_a, dates.today() + timedelta(days=5))  # the Red on its agenda
    made["elsewhere"] = factories.make_person(place_b)
    _add_to_the_record(made["elsewhere"], place_b, 1)
    return made


def test_the_narrowed_rule_gives_the_rows_of_the_full_scope_for_every_viewer(cast, people):
    assert len(NARROWED) >= 15  # every door whose rule is its person's, and the agenda's
    compared = 0
    doors_with_rows = set()
    for key in [*Role, "outsider"]:
        viewer = viewer_of(cast[key])
        for person in people.values():
            try:
                admitted = PEOPLE.get(viewer, person.pk, purpose="record")
            except Http404:
                continue
            assert viewer.people[person.pk] is admitted
            for door in NARROWED:
                narrowed = door.about(viewer, admitted, purpose="record")
                assert PERSON_JOINED not in sql(narrowed)  # the person not joined again
                full = door._scoped(viewer).filter(**{door._person: person.pk})
                assert rows(narrowed) == rows(full), (key, door.object_type)
                compared += 1
                if rows(full):
                    doors_with_rows.add(door.object_type)
    assert compared > 100
    # The comparison means something: most doors had records to compare.
    assert {"Rating", "SignificantEvent", "NetworkMember", "Circumstance", "Consent"} <= (
        doors_with_rows
    )
    assert {"Contact", "Allocation", "Withdrawal", "Action", "AgendaItem"} <= doors_with_rows


def test_a_withdrawn_persons_records_go_to_coordinators_only(cast, people):
    withdrawn = people["withdrawn"]
    coordinator, partner = viewer_of(cast[Role.COORDINATOR]), viewer_of(cast[Role.PARTNER])
    for viewer, expected in ((coordinator, True), (partner, False)):
        person = PEOPLE.get(viewer, withdrawn.pk, purpose="record")  # its restricted page
        assert bool(rows(NETWORK.about(viewer, person, purpose="record"))) is expected


def test_a_person_not_given_by_the_people_door_is_read_under_the_full_rule(cast, people):
    """A person object from anywhere else (another viewer's read, a plain query, the same
    person got by someone else) is not taken as checked: the scope joins the person."""
    viewer = viewer_of(cast[Role.PARTNER])
    someone = viewer_of(cast[Role.COORDINATOR])
    apart = PEOPLE.get(someone, people["apart"].pk, purpose="record")
    for person in (apart, Person.objects.get(pk=people["apart"].pk)):
        for door in NARROWED:
            found = door.about(viewer, person, purpose="record")
            assert PERSON_JOINED in sql(found)
            assert not rows(found)  # not in the partner's care network
    elsewhere = Person.objects.get(pk=people["elsewhere"].pk)
    for door in NARROWED:
        assert not rows(door.about(someone, elsewhere, purpose="record"))
