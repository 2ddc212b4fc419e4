"""Queries written once (core/compiled.py): the same objects as the ORM's own, one query a
call, and every query that could come out wrong refused the first time it is written."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.db.models import Count, FilteredRelation, Q, QuerySet, Value
from django.db.models.functions import Lower
from django.db.models.query import ModelIterable
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dsr.accounts.models import UserSession
from dsr.accounts.sessions import SessionStore
from dsr.core import compiled
from dsr.core.access import Role
from dsr.core.compiled import Compiled
from dsr.people.models import Person
from dsr.places import services as places
from dsr.places.middleware import _MEMBERSHIPS
from dsr.places.models import Membership, Place
from dsr.risk.models import Rating
from tests import factories
from tests.factories import SYSTEM


def memberships_by_orm(user_id: int) -> list[Membership]:
    return list(
        Membership.objects.filter(user_id=user_id, is_active=True)
        .select_related("place", "place__settings")
        .order_by("place__name")
    )


def values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def two_places(db):
    north, south, west = (factories.make_place(n) for n in ("North", "South", "West"))
    south.settings.keyworker_contact_days = 17
    south.settings.save()
    user = factories.make_user(place=south, role=Role.COORDINATOR)
    for place in (north, west):
        places.grant_membership(user=user, place=place, role=Role.KEYWORKER, by=SYSTEM)
    Membership.objects.filter(user=user, place=west).update(is_active=False)
    other = factories.make_user(place=west, role=Role.PARTNER)
    return user, other


def test_the_same_objects_as_the_orm_with_their_relations_and_no_more_queries(
    two_places, django_assert_num_queries
):
    user, other = two_places
    for who in (user, other):
        expected = memberships_by_orm(who.pk)
        with django_assert_num_queries(1):
            got = _MEMBERSHIPS(who.pk)
            # The places and their policies came with the row: no query reads them.
            seen = [(m.place.name, m.place.settings.keyworker_contact_days) for m in got]
        assert [values(m) for m in got] == [values(m) for m in expected]
        assert seen == [(m.place.name, m.place.settings.keyworker_contact_days) for m in expected]
        assert all(not m._state.adding and m._state.db == "default" for m in got)
    assert [m.place.name for m in _MEMBERSHIPS(user.pk)] == ["North", "South"]  # West ended
    assert _MEMBERSHIPS(user.pk + other.pk + 1000) == []


def test_the_sql_is_written_once_a_connection(two_places, monkeypatch):
    user, other = two_places
    query = Compiled(lambda pk: Place.objects.filter(pk=pk), int)
    written = []
    original = Compiled._write
    monkeypatch.setattr(
        Compiled, "_write", lambda self, *a: written.append(1) or original(self, *a)
    )
    ids = list(Membership.objects.filter(user=user).values_list("place_id", flat=True))
    with CaptureQueriesContext(connection) as queries:
        names = [query(pk)[0].name for pk in ids]
    assert len(written) == 1
    assert sorted(names) == ["North", "South", "West"]
    # Each call ran the one SQL with its own value.
    ran = [q["sql"] for q in queries.captured_queries]
    assert len(ran) == 3 and all(str(pk) in sql for pk, sql in zip(ids, ran, strict=True))
    assert len({sql.replace(str(pk), "?") for pk, sql in zip(ids, ran, strict=True)}) == 1


def test_a_session_row_comes_with_its_user_or_with_none_and_expired_rows_are_not_read(db):
    user = factories.make_user(place=factories.make_place(), role=Role.COORDINATOR)
    soon = timezone.now() + timedelta(minutes=5)
    UserSession.objects.create(session_key="k" * 32, session_data="", expire_date=soon, user=user)
    UserSession.objects.create(session_key="n" * 32, session_data="", expire_date=soon)
    UserSession.objects.create(
        session_key="x" * 32, session_data="", expire_date=timezone.now() - timedelta(seconds=1)
    )
    store = SessionStore("k" * 32)
    assert store._get_session_from_db() is not None
    assert store.loaded_user == user and store.loaded_user.email == user.email
    nobody = SessionStore("n" * 32)
    assert nobody._get_session_from_db() is not None and nobody.loaded_user is None
    for key in ("x" * 32, "q" * 32):  # expired; never there
        store = SessionStore(key)
        assert store._get_session_from_db() is None and store.session_key is None


@pytest.mark.parametrize(
    ("build", "kinds", "why"),
    [
        # The ORM rewrites the value (wraps it in %), so the stand-in is not found as it is.
        (lambda name: Place.objects.filter(name__icontains=name), (str,), "parameter"),
        (lambda name: Place.objects.all(), (str,), "parameter"),  # the value is not used
        (lambda pk: Place.objects.filter(pk=pk).annotate(n=Count("memberships")), (int,), "no"),
        (lambda pk: Place.objects.filter(pk=pk).prefetch_related("memberships"), (int,), "no"),
        (lambda pk: Place.objects.filter(pk=pk).values("name"), (int,), "model objects"),
    ],
)
def test_a_query_that_could_come_out_wrong_is_refused_when_first_written(db, build, kinds, why):
    with pytest.raises(ValueError, match=why):
        Compiled(build, *kinds)(*[k() for k in kinds])


def test_values_are_checked_before_any_sql(db, django_assert_num_queries):
    query = Compiled(lambda pk: Place.objects.filter(pk=pk), int)
    with django_assert_num_queries(0):
        for wrong in [(True,), ("1",), (1.0,), (), (1, 2)]:
            with pytest.raises(TypeError):
                query(*wrong)
    with pytest.raises(TypeError):
        Compiled(lambda when: Place.objects.filter(created_at=when), float)


def test_a_value_that_looks_like_a_stand_in_is_only_a_value(db):
    """The stand-ins are values too: passing one finds nothing rather than anything."""
    query = Compiled(lambda name: Place.objects.filter(name=name), str)
    place = factories.make_place()
    Place.objects.filter(pk=place.pk).update(name=compiled._stand_in(str, 0))
    assert [p.name for p in query(compiled._stand_in(str, 0))] == [compiled._stand_in(str, 0)]
    assert query("Nowhere") == []


def test_labels_of_care_records_are_djangos_labels():
    """core/models.py `Labelled`: for every choice of every care record, and a value not
    among them, the label Django's own get_<field>_display gives."""
    from django.apps import apps
    from django.db import models

    from dsr.core.models import Labelled

    checked = 0
    for model in apps.get_models():
        if not issubclass(model, Labelled):
            continue
        assert model._get_FIELD_display is Labelled._get_FIELD_display
        for field in model._meta.concrete_fields:
            if not field.choices:
                continue
            for value in [*(v for v, _ in field.flatchoices), "not-a-choice", None]:
                obj = model(**{field.attname: value})
                ours = getattr(obj, f"get_{field.name}_display")()
                assert ours == models.Model._get_FIELD_display(obj, field), (model, field, value)
                checked += 1
    assert checked > 100


# Queries written once a shape (core/compiled.py ShapedModelIterable).


def by_orm(queryset) -> list:
    """The same queryset through Django's own ModelIterable."""
    plain = queryset._chain()
    plain._iterable_class = ModelIterable
    return list(plain)


def same(got: list, expected: list) -> bool:
    def made(obj):
        """What making the object set on it: its attributes, and its state's."""
        return (sorted(vars(obj)), obj._state.adding, obj._state.db)

    def row(obj):
        # As made, before reading every field loads the deferred ones
        as_made, deferred = made(obj), obj.get_deferred_fields()
        related = {
            name: (made(cached), values(cached)) if cached is not None else None
            for name, cached in sorted(obj._state.fields_cache.items())
        }
        return (type(obj), as_made, deferred, values(obj), related)

    return [row(o) for o in got] == [row(o) for o in expected]


@pytest.fixture
def registers(db):
    north, south = factories.make_place("North"), factories.make_place("South")
    for place, names in ((north, ["Ash", "Birch", "Cedar"]), (south, ["Dale", "Elm"])):
        for name in names:
            factories.make_person(place, family_name=name)
    return north, south


QUERIES = {
    "filter": lambda place: Person.objects.filter(place=place),
    "related, ordered, sliced": lambda place: (
        Person.objects.filter(place_id=place.pk)
        .select_related("place")
        .order_by("-family_name")[:2]
    ),
    "only some columns": lambda place: Person.objects.filter(place=place).only(
        "family_name", "date_of_birth"
    ),
    "across a join": lambda place: Rating.objects.filter(
        person__place=place, person__family_name__gte="B"
    ).select_related("person", "decided_by"),
    "a subquery": lambda place: Person.objects.filter(
        pk__in=Rating.objects.filter(person__place=place).values("person_id")
    ),
    "or and not": lambda place: Person.objects.filter(
        Q(place=place) & (Q(family_name="Ash") | ~Q(family_name__startswith="C"))
    ),
    "first": lambda place: [Person.objects.filter(place=place).first()],
}


@pytest.mark.parametrize("name", QUERIES)
def test_a_shape_gives_each_query_its_own_rows_as_the_orm_does(registers, name, settings):
    """The second place's query has the first's shape: its SQL around the WHERE is kept,
    its WHERE its own. Each gets exactly the ORM's rows, and never the other place's."""
    settings.DSR_CHECK_SHAPES = False  # compared here by their rows, not their SQL
    build = QUERIES[name]
    kept = len(compiled._shapes(connections["default"]))
    for place in registers:
        queryset = build(place)
        if name == "first":
            got, expected = queryset, by_orm(Person.objects.filter(place=place).order_by("pk")[:1])
        else:
            got, expected = list(queryset), by_orm(queryset)
        assert got and same(got, expected), name
        assert all(getattr(o, "place_id", place.pk) == place.pk for o in got)
    assert len(compiled._shapes(connections["default"])) == kept + 1  # both places: one shape


def test_objects_of_a_model_someone_listens_to_as_it_is_made_are_made_by_its_init(registers):
    from django.db.models.signals import post_init

    made = []

    def listen(sender, instance, **kwargs):
        made.append(instance.pk)

    north, _ = registers
    post_init.connect(listen, sender=Person)
    try:
        people = list(Person.objects.filter(place=north).select_related("place"))
    finally:
        post_init.disconnect(listen, sender=Person)
    assert sorted(made) == sorted(p.pk for p in people) and len(people) == 3


def test_a_shape_is_one_query_as_the_orm_is_and_none_when_no_one_can_match(
    registers, django_assert_num_queries
):
    north, _ = registers
    list(Person.objects.filter(place=north))  # the shape is kept
    with django_assert_num_queries(1):
        assert len(list(Person.objects.filter(place=north))) == 3
    with django_assert_num_queries(0):
        assert list(Person.objects.filter(place=north, pk__in=[])) == []
        assert list(Person.objects.none()) == []


def test_expressions_beyond_the_where_are_part_of_the_shape_values_and_all(registers, settings):
    """An annotation or an ordering expression is in the key with its values: the same
    expression with another value (True where 1 was) is another shape, never the first's."""
    settings.DSR_CHECK_SHAPES = False  # compared here by their rows
    north, south = registers
    ordered = [
        Person.objects.filter(place=place).order_by(Lower("family_name").desc())
        for place in registers
    ]
    assert [p.family_name for p in ordered[0]] == ["Cedar", "Birch", "Ash"]
    assert [p.family_name for p in ordered[1]] == ["Elm", "Dale"]
    for value in (1, True, 2, "1", 1.0):
        tagged = list(Person.objects.filter(place=south).annotate(tag=Value(value)))
        assert [type(p.tag) for p in tagged] == [type(value)] * 2 and tagged[0].tag == value
    for place, count in ((north, 1), (south, 1)):
        counted = Person.objects.filter(place=place).annotate(n_ratings=Count("ratings"))
        assert compiled.shape_of(counted.query) is not None
        assert {p.n_ratings for p in counted} == {count}
        assert same(list(counted), by_orm(counted))


def test_what_cannot_be_frozen_is_written_whole(registers):
    north, _ = registers
    with_relation = Person.objects.annotate(
        mine=FilteredRelation("ratings", condition=Q(ratings__rating="G"))
    ).filter(place=north, mine__isnull=False)
    assert compiled.shape_of(with_relation.query) is None
    assert len(list(with_relation)) == 3
    assert compiled.shape_of(Person.objects.filter(place=north).select_for_update().query) is None


def test_under_test_a_shaped_query_is_held_to_the_orms_own_sql(registers, monkeypatch):
    """DSR_CHECK_SHAPES (on under test): the check itself fails on a wrong cut."""
    north, south = registers
    list(Person.objects.filter(place=north))
    key = compiled.shape_of(Person.objects.filter(place=south).query)
    kept = compiled._shapes(connections["default"])
    monkeypatch.setitem(kept, key, replace(kept[key], after=kept[key].after + " AND 1 = 1"))
    with pytest.raises(AssertionError, match="differs from the ORM"):
        list(Person.objects.filter(place=south))


def test_shapes_kept_are_bounded(registers, monkeypatch, settings):
    settings.DSR_CHECK_SHAPES = False
    north, _ = registers
    monkeypatch.setattr(compiled, "KEPT_SHAPES", 3)
    for n in range(1, 8):  # each slice is a shape of its own
        assert len(list(Person.objects.filter(place=north).order_by("pk")[:n])) == min(n, 3)
    assert len(compiled._shapes(connections["default"])) <= 3


def test_a_count_is_written_once_a_shape_and_counts_as_the_orm_does(
    registers, settings, django_assert_num_queries
):
    settings.DSR_CHECK_SHAPES = False
    north, south = registers
    for place, expected in ((north, 3), (south, 2), (north, 3)):
        with django_assert_num_queries(1):
            assert Person.objects.filter(place=place).count() == expected
        rated = Person.objects.filter(place=place, ratings__rating="G").annotate(n=Count("pk"))
        assert rated.count() == QuerySet.count(rated) == expected
    with django_assert_num_queries(0):
        assert Person.objects.filter(place=north, pk__in=[]).count() == 0
    fetched = Person.objects.filter(place=north)
    list(fetched)
    with django_assert_num_queries(0):
        assert fetched.count() == 3  # as the ORM: the rows already read are counted


def test_under_test_a_shaped_count_is_held_to_the_orms_own(registers, monkeypatch):
    north, south = registers
    Person.objects.filter(place=north).count()
    key = ("count", compiled.shape_of(Person.objects.filter(place=south).query))
    kept = compiled._shapes(connections["default"])
    monkeypatch.setitem(kept, key, replace(kept[key], after=kept[key].after + " AND 1 = 1"))
    with pytest.raises(AssertionError, match="count differs from the ORM"):
        Person.objects.filter(place=south).count()
