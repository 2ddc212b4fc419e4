"""Queries whose SQL the ORM writes once a process, then runs with new values.

Every signed-in page reads its session row (with its user and authenticator) and the user's
memberships (with their places and policies) before any view runs. The ORM writes those
SELECTs afresh each time, and writing them costs more than running them: three tables and
about seventy columns each (make bench; ADR 0029). A `Compiled` query is written by the ORM,
once per database connection, from a queryset built with stand-in values; later calls put
the real values where the stand-ins stood and build the objects as the ORM builds them
(select_related included), through the same cursor, so query counts, the bench's SQL capture
and every execute wrapper see it as any other query.

Only whole values of type int or str are taken, and each must reach the SQL as a parameter of
its own, unchanged (an equality or `in` of one value, say). A value the ORM rewrites (a
`contains` wraps it in `%`), folds into the SQL text, or drops, is refused when the query is
first written, so a mistake shows in the first test that runs it, never as the wrong rows.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar
from uuid import UUID

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import DEFERRED, Field, ForeignObjectRel, Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.query import ModelIterable, RelatedPopulator, get_related_populators
from django.db.models.signals import post_init, pre_init
from django.db.models.sql import Query
from django.db.models.sql.datastructures import BaseTable, Join

M = TypeVar("M", bound=Model)
# How ModelIterable fills in select_related's objects (Django 5.2; django-stubs describe a
# later Django's, with a fetch mode). tests/core/test_compiled.py holds the result to the ORM's.
_related_populators: Any = get_related_populators

# Stand-ins no query writes for itself: ints below any id, strs no one types.
_INT_BASE = -(2**62)
_STR_MARK = "\x1fdsr-compiled-{}\x1f"


def _stand_in(kind: type, index: int) -> int | str:
    return _INT_BASE + index if kind is int else _STR_MARK.format(index)


@dataclass(frozen=True)
class _Objects:
    """How a query's rows become model objects, as Django's ModelIterable makes them: the
    model's own columns through `from_db`, select_related's through Django's populators,
    annotations set on each. Taken from the compiler that wrote the query."""

    compiler: Any  # for its converters only (its query is dropped: see `of`)
    converters: dict[int, Any]
    model: type[Model]
    start: int
    end: int
    init_list: list[str]
    populators: list[RelatedPopulator]
    annotations: tuple[tuple[str, int], ...]
    # With fields deferred (`only()`): for each of the model's fields, its place in the row,
    # or None. Model.from_db would look each one up in init_list, for every row.
    layout: tuple[int | None, ...] | None

    plain: bool  # the model is made as Model.__init__ makes it: `_made` may make it faster

    @classmethod
    def of(cls, compiler: Any, using: str) -> _Objects | None:
        """None when the rows are not one model's objects (or a composite key's)."""
        select, klass_info = compiler.select, compiler.klass_info
        columns = [s[0] for s in select[: compiler.col_count]]
        if klass_info is None or compiler.has_composite_fields(columns):
            return None
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        model = klass_info["model"]
        concrete = model._meta.concrete_fields
        objects = cls(
            compiler=compiler,
            converters=compiler.get_converters(columns),
            model=model,
            start=start,
            end=end,
            init_list=init_list,
            populators=_populators(_related_populators(klass_info, select, using)),
            annotations=tuple(compiler.annotation_col_map.items()),
            plain=_plain(model),
            layout=None
            if len(init_list) == len(concrete)
            else tuple(
                init_list.index(f.attname) if f.attname in init_list else None for f in concrete
            ),
        )
        # What is kept is how to build objects, not the query: its values (whom it was
        # about, what was searched for) are not kept in the process.
        compiler.query = None
        return objects

    def build(self, rows: Any, using: str) -> Any:
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        start, layout = self.start, self.layout
        plain = self.plain and not _signalled(self.model)
        for row in rows:
            if plain:
                obj = _made(self.model, self.init_list, row[start : self.end], using)
            else:
                values = (
                    row[start : self.end]
                    if layout is None
                    else [DEFERRED if i is None else row[start + i] for i in layout]
                )
                obj = self.model.from_db(using, self.init_list, values)
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            yield obj


def _plain(model: type[Model]) -> bool:
    """Whether the model's objects are made by Django's own `from_db` and `__init__`."""
    return bool(
        model.__init__ is Model.__init__ and model.from_db.__func__ is Model.from_db.__func__  # type: ignore[attr-defined]
    )


def _signalled(model: type[Model]) -> bool:
    """Whether something listens as the model's objects are made (Django's own fields that
    do, such as an ImageField's dimensions, listen to post_init). Asked for each related
    object a row makes: when no one listens to either signal at all, as in this app, the
    answer needs no look-up by model (a Word pack's 7,000 objects spent 10 ms on it)."""
    if not pre_init.receivers and not post_init.receivers:
        return False
    return bool(pre_init.has_listeners(model) or post_init.has_listeners(model))


def _made(model: type[Model], attnames: list[str], values: Any, using: str) -> Any:
    """An object as `Model.from_db` makes one, without its `__init__`: the columns read
    set as its attributes (a column not read left deferred), its state loaded from `using`.
    `__init__` sets each attribute through `setattr` and sends two signals; for a model
    made plainly, with no one listening (`_plain`, `_signalled`), that comes to the same
    object (tests/core/test_compiled.py holds both to the ORM's), for a third of the time:
    a register page makes a few hundred (make bench)."""
    obj = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = using
    found = dict(zip(attnames, values, strict=True))
    found["_state"] = state
    obj.__dict__ = found
    return obj


class _Populator(RelatedPopulator):
    """Django's RelatedPopulator (select_related's objects), making its objects as `_made`
    does where the model allows."""

    plain = False

    def populate(self, row: Any, from_obj: Any) -> None:
        if not self.plain or _signalled(self.model_cls):
            super().populate(row, from_obj)
            return
        if self.reorder_for_init:
            obj_data = self.reorder_for_init(row)
        else:
            obj_data = row[self.cols_start : self.cols_end]
        if obj_data[self.pk_idx] is None:
            obj = None
        else:
            obj = _made(self.model_cls, self.init_list, obj_data, self.db)
            for related in self.related_populators:
                related.populate(row, obj)
        self.local_setter(from_obj, obj)
        if obj is not None:
            self.remote_setter(obj, from_obj)


def _populators(populators: list[Any]) -> list[Any]:
    """Django's populators, nested ones included, as `_Populator`s."""
    for populator in populators:
        populator.__class__ = _Populator
        populator.plain = _plain(populator.model_cls)
        _populators(populator.related_populators)
    return populators


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, which value)
    objects: _Objects


class Compiled(Generic[M]):
    """`Compiled(build, int, str)`: `build(user_id, key)` gives the queryset; calling the
    Compiled with values of those types runs it and returns its objects as a list."""

    def __init__(self, build: Callable[..., QuerySet[M]], *kinds: type) -> None:
        if not kinds or any(k not in (int, str) for k in kinds):
            raise TypeError("A compiled query takes int and str values only")
        self.build = build
        self.kinds = kinds
        self._plans: weakref.WeakKeyDictionary[Any, _Plan] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, *values: int | str, using: str = "default") -> list[M]:
        if len(values) != len(self.kinds):
            raise TypeError(f"Expected {len(self.kinds)} values, got {len(values)}")
        for value, kind in zip(values, self.kinds, strict=True):
            if type(value) is not kind:  # bool is an int, and is refused
                raise TypeError(f"Expected {kind.__name__}, got {type(value).__name__}")
        connection = connections[using]
        plan = self._plans.get(connection) or self._write(connection, using)
        params = list(plan.params)
        for position, which in plan.slots:
            params[position] = values[which]
        with connection.cursor() as cursor:
            cursor.execute(plan.sql, params)
            rows = cursor.fetchall()
        return list(plan.objects.build(rows, using))

    def _write(self, connection: Any, using: str) -> _Plan:
        stand_ins = [_stand_in(kind, i) for i, kind in enumerate(self.kinds)]
        queryset: Any = self.build(*stand_ins)
        query = queryset.query
        if queryset._prefetch_related_lookups or query.annotation_select or query.extra_select:
            raise ValueError("A compiled query takes no prefetches, annotations or extras")
        if queryset._fields is not None or not issubclass(queryset._iterable_class, ModelIterable):
            raise ValueError("A compiled query returns model objects")
        compiler = query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = []
        for position, param in enumerate(params):
            for which, stand_in in enumerate(stand_ins):
                if type(param) is type(stand_in) and param == stand_in:
                    slots.append((position, which))
        for which, stand_in in enumerate(stand_ins):
            if str(stand_in) in sql or not any(w == which for _, w in slots):
                raise ValueError(f"Value {which} does not reach the SQL as a parameter of its own")
        for param in params:
            if isinstance(param, str) and "\x1fdsr-compiled-" in param and param not in stand_ins:
                raise ValueError("A value reaches the SQL rewritten")
        objects = _Objects.of(compiler, using)
        if objects is None:
            raise ValueError("A compiled query returns model objects")
        plan = _Plan(sql=sql, params=tuple(params), slots=tuple(slots), objects=objects)
        with self._lock:
            self._plans[connection] = plan
        return plan


# Every query a door hands out, written once a shape.
#
# A care record's queryset (core/models.py CareQuerySet) builds its objects through
# `ShapedModelIterable`. A query's SQL is the SELECT list, FROM and joins, WHERE, ORDER BY and
# LIMIT; of these only the WHERE holds the request's values (a person, a place, a search).
# Everything else is decided by the rest of the query's state, which is taken whole as the
# key: each attribute the ORM has set on the Query (its joins, their refcounts, select_related,
# ordering, deferred fields, slice, ...), except the WHERE. The first query of a shape is
# written by the ORM as usual, and what surrounds its WHERE is kept; later queries of that
# shape have only their WHERE written by the ORM (with their own values and subqueries) and
# put between the two. An annotation or an ordering expression is part of the key, its
# values included, and its values are kept with the shape. A state holding anything that
# cannot be frozen into plain data (a filtered relation, an EXPLAIN, an object of our own),
# a combinator or FOR UPDATE is not a shape: the ORM writes that query whole, as always.


class _NotAShape(Exception):
    pass


_VALUES = (date, datetime, time, timedelta, Decimal, UUID)


def _freeze(value: Any) -> Any:
    """Plain data for a part of a query's state, such that two parts freeze alike only when
    they write the same SQL; raises _NotAShape for anything it cannot vouch for."""
    kind = type(value)
    if kind is str or kind is int or value is None:
        return value
    if kind is bool or kind is float:  # True == 1 == 1.0: their SQL may differ
        return (kind.__name__, value)
    if kind is tuple or kind is list:
        return (kind.__name__, *(_freeze(v) for v in value))
    if kind is set or kind is frozenset:
        return ("set", frozenset(_freeze(v) for v in value))
    if kind is dict:
        return ("dict", *((_freeze(k), _freeze(v)) for k, v in value.items()))
    if kind is BaseTable or kind is Join:
        if value.filtered_relation is not None:
            raise _NotAShape
        return (kind.__name__, _freeze(vars(value)))
    if isinstance(value, ForeignObjectRel) or (
        isinstance(value, Field) and getattr(value, "model", None) is not None
    ):
        return ("field", id(value))  # a model's own: one object a process
    if isinstance(value, Field):  # an expression's output field, made afresh each time
        _, path, args, kwargs = value.deconstruct()
        return ("new field", path, _freeze(args), _freeze(kwargs))
    if isinstance(value, type):
        return ("class", id(value))  # a model, a lookup, a field class: one a process
    if isinstance(value, Enum):
        return ("enum", id(kind), _freeze(value.value))
    if kind in _VALUES:
        return (kind.__name__, value, getattr(value, "tzinfo", None))
    if kind.__module__.startswith("django.db.models.") and hasattr(value, "__dict__"):
        # An expression, a lookup, a WHERE node, a subquery's Query: its class and all its
        # state, values included (an annotation's values are part of its shape).
        return ("expr", id(kind), _freeze(vars(value)))
    raise _NotAShape


def shape_of(query: Any) -> Any:
    """The key of everything in the query's SQL but its WHERE; None when it is not a shape."""
    if type(query) is not Query or query.combinator or query.select_for_update:
        return None
    where = query.where
    if where.contains_aggregate or where.contains_over_clause:
        return None  # the WHERE would be split into a HAVING or a QUALIFY
    try:
        return tuple((name, _freeze(v)) for name, v in vars(query).items() if name != "where")
    except _NotAShape:
        return None


@dataclass(frozen=True)
class _Shape:
    before: str  # the SQL up to and including " WHERE "
    after: str  # the SQL after the WHERE
    params_before: tuple[Any, ...]  # an annotation's values: the same for the whole shape
    params_after: tuple[Any, ...]
    objects: _Objects | None  # None for a count


_UNSHAPED = object()  # a shape the ORM's own SQL could not be cut around its WHERE
KEPT_SHAPES = 500  # a connection's; a slice (a page of a list) is a shape of its own


def _shapes(connection: Any) -> OrderedDict[Any, Any]:
    kept = _SHAPES.get(connection)
    if kept is None:
        kept = _SHAPES[connection] = OrderedDict()
    return kept


def _kept(connection: Any, key: Any) -> Any:
    """The connection's shape of this key (now its most recently used), or None."""
    kept = _shapes(connection)
    shape = kept.get(key)
    if shape is not None:
        kept.move_to_end(key)
    return shape


def _keep(connection: Any, key: Any, shape: Any) -> Any:
    kept = _shapes(connection)
    kept[key] = shape
    while len(kept) > KEPT_SHAPES:
        kept.popitem(last=False)
    return shape


_SHAPES: weakref.WeakKeyDictionary[Any, OrderedDict[Any, Any]] = weakref.WeakKeyDictionary()


def _cut(query: Any, using: str) -> Any:
    """The ORM writes the query whole (on a copy: writing adds select_related's joins), and
    the whole is cut around its WHERE, or the shape is given up."""
    compiler = query.chain().get_compiler(using=using)
    try:
        sql, params = compiler.as_sql()
    except (EmptyResultSet, FullResultSet):
        return _UNSHAPED
    objects = _Objects.of(compiler, using)
    return _UNSHAPED if objects is None else _cut_around_where(query, using, sql, params, objects)


class ShapedModelIterable(ModelIterable):
    """Django's ModelIterable, with the SQL around the WHERE written once a shape."""

    def __iter__(self) -> Any:
        queryset: Any = self.queryset
        if self.chunked_fetch or queryset._known_related_objects:
            yield from super().__iter__()
            return
        using = queryset.db
        query = queryset.query
        key = shape_of(query)
        if key is None:
            yield from super().__iter__()
            return
        connection = connections[using]
        shape = _kept(connection, key) or _keep(connection, key, _cut(query, using))
        if shape is _UNSHAPED:
            yield from super().__iter__()
            return
        assembled = _assemble(query, using, shape)
        if assembled is None:
            yield from super().__iter__()
            return
        if not assembled:
            return  # as the ORM: no one can match, so no query
        sql, params = assembled
        if settings.DSR_CHECK_SHAPES:
            _check(query, using, sql, params)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        assert shape.objects is not None  # a count's shape is kept under a key of its own
        yield from shape.objects.build(rows, using)


def _check(query: Any, using: str, sql: str, params: Any) -> None:
    """Under test (DSR_CHECK_SHAPES): the SQL is what the ORM writes for the query whole."""
    expected, expected_params = query.chain().get_compiler(using=using).as_sql()
    if (expected, tuple(expected_params)) != (sql, tuple(params)):
        raise AssertionError(f"Shaped SQL differs from the ORM's:\n{sql}\n{expected}")


def _cut_around_where(
    query: Any, using: str, sql: str, params: Any, objects: _Objects | None = None
) -> Any:
    """The shape of a query's SQL, cut around its WHERE (`objects`: how its rows become
    objects; none for a count), or _UNSHAPED when its WHERE is not found once or its values
    do not line up."""
    try:
        where, where_params = query.get_compiler(using=using).compile(query.where)
    except (EmptyResultSet, FullResultSet):
        return _UNSHAPED
    marker = f" WHERE {where}"
    if not where or sql.count(marker) != 1:
        return _UNSHAPED
    before, after = sql.split(marker)
    # Django writes each value as %s and a literal % as %%: the values before the WHERE are
    # the select list's and the joins' (an annotation's), those after it the ordering's.
    ahead = before.replace("%%", "").count("%s")
    params, where_params = tuple(params), tuple(where_params)
    if params[ahead : ahead + len(where_params)] != where_params:
        return _UNSHAPED
    return _Shape(
        before=before + " WHERE ",
        after=after,
        params_before=params[:ahead],
        params_after=params[ahead + len(where_params) :],
        objects=objects,
    )


def shaped_count(queryset: Any, count: Callable[[], int]) -> int:
    """`count()` of a care records' queryset, its SQL written once a shape as its rows' are.
    The first count of a shape is the ORM's own (`count`), its SQL kept as it ran."""
    query = queryset.query
    key = shape_of(query)
    if key is None:
        return count()
    using = queryset.db
    connection = connections[using]
    key = ("count", key)
    shape = _kept(connection, key)
    if shape is None or (settings.DSR_CHECK_SHAPES and shape is not _UNSHAPED):
        ran: list[tuple[str, Any]] = []

        def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            ran.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            result = count()
        if shape is not None:  # under test: the ORM's count ran, and held to the shape's
            _check_count(query, using, shape, ran)
            return result
        _keep(
            connection,
            key,
            _cut_around_where(query, using, *ran[0]) if len(ran) == 1 else _UNSHAPED,
        )
        return result
    if shape is _UNSHAPED:
        return count()
    sql_params = _assemble(query, using, shape)
    if sql_params is None:
        return count()
    if not sql_params:
        return 0  # as the ORM: no one can match, so no query
    with connection.cursor() as cursor:
        cursor.execute(*sql_params)
        return int(cursor.fetchone()[0])


def _assemble(query: Any, using: str, shape: Any) -> tuple[str, tuple[Any, ...]] | None | tuple[()]:
    """The shape's SQL with this query's WHERE: () when it cannot match, None when it has none."""
    try:
        where, params = query.get_compiler(using=using).compile(query.where)
    except EmptyResultSet:
        return ()
    except FullResultSet:
        return None
    return (
        f"{shape.before}{where}{shape.after}",
        (*shape.params_before, *params, *shape.params_after),
    )


def _check_count(query: Any, using: str, shape: _Shape, ran: list[tuple[str, Any]]) -> None:
    assembled = _assemble(query, using, shape)
    if assembled is None:
        return  # no WHERE: the ORM's count is the one that ran
    expected = [(sql, tuple(params)) for sql, params in ran]
    ours = [(assembled[0], tuple(assembled[1]))] if assembled else []
    if ours != expected:
        raise AssertionError(f"Shaped count differs from the ORM's:\n{ours}\n{expected}")


class ShapedQuerySet(QuerySet):  # type: ignore[type-arg]
    """A queryset whose objects and counts are written once a shape. Care records' querysets
    are (core/models.py CareQuerySet), and so are the users, places, organisations and risk
    factors that pages read beside them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._iterable_class = ShapedModelIterable

    def count(self) -> int:
        if self._result_cache is not None:
            return len(self._result_cache)
        return shaped_count(self, super().count)
