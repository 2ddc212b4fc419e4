"""`any_of` (core/lookups.py, ADR 0040): the rows of `in`, a long list as one array
parameter on PostgreSQL."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from dsr.actions import services as actions
from dsr.actions.models import Action
from dsr.core import dates
from dsr.people.models import Person
from tests import factories
from tests.factories import SYSTEM


def test_any_of_finds_the_rows_in_does(place_a, place_b):
    people = [factories.make_person(place_a) for _ in range(3)] + [factories.make_person(place_b)]
    wanted = [people[0].pk, people[2].pk, people[3].pk, None, 10**12]  # None and no one: as in
    for ids in (wanted, [people[1].pk], []):
        assert sorted(Person.objects.filter(pk__any_of=ids).values_list("pk", flat=True)) == sorted(
            Person.objects.filter(pk__in=ids).values_list("pk", flat=True)
        )
    # A foreign key (the pack's people) and an exclusion, as in would give them.
    for person in people:
        actions.open_action(
            person=person,
            description="Ring",
            due_on=dates.today(),
            source="other",
            owner_name="Ali Khan",
            by=SYSTEM,
        )
    theirs = set(Action.objects.filter(person_id__any_of=wanted))
    assert theirs == set(Action.objects.filter(person_id__in=wanted))
    assert {a.person_id for a in theirs} == {people[0].pk, people[2].pk, people[3].pk}
    assert set(Person.objects.exclude(pk__any_of=wanted)) == set(
        Person.objects.exclude(pk__in=wanted)
    )
    here = Person.objects.filter(place=place_a).values("pk")  # a subquery: IN, as ever
    assert set(Person.objects.filter(pk__any_of=here)) == set(people[:3])


def test_on_postgresql_the_list_is_one_parameter(place_a):
    ids = [factories.make_person(place_a).pk for _ in range(40)]
    with CaptureQueriesContext(connection) as captured:
        found = list(Person.objects.filter(pk__any_of=ids).values_list("pk", flat=True))
    assert sorted(found) == sorted(ids)
    sql = captured.captured_queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and "IN (" not in sql
    else:
        assert "IN (" in sql
