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
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import Field, ForeignObjectRel, Model, QuerySet
from django.db.models.query import ModelIterable, RelatedPopulator, get_related_populators
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
class _Plan:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, which value)
    compiler: Any
    converters: dict[int, Any]
    start: int
    end: int
    init_list: list[str]
    populators: list[RelatedPopulator]
    model: type[Model]


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
            rows: Any = cursor.fetchall()
        if plan.converters:
            rows = plan.compiler.apply_converters(rows, plan.converters)
        objects = []
        for row in rows:
            obj = plan.model.from_db(using, plan.init_list, row[plan.start : plan.end])
            for populator in plan.populators:
                populator.populate(row, obj)
            objects.append(obj)
        return objects  # type: ignore[return-value]

    def _write(self, connection: Any, using: str) -> _Plan:
        stand_ins = [_stand_in(kind, i) for i, kind in enumerate(self.kinds)]
        queryset: Any = self.build(*stand_ins)
        query = queryset.query
        if queryset._prefetch_related_lookups or query.annotation_select or query.extra_select:
            raise ValueError("A compiled query takes no prefetches, annotations or extras")
        if queryset._fields is not None or queryset._iterable_class.__name__ != "ModelIterable":
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
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        plan = _Plan(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            compiler=compiler,
            converters=compiler.get_converters([s[0] for s in select[: compiler.col_count]]),
            start=start,
            end=end,
            init_list=[f[0].target.attname for f in select[start:end]],
            populators=_related_populators(klass_info, select, using),
            model=klass_info["model"],
        )
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
# put between the two. A state holding anything but plain data (an annotation, an extra, a
# filtered relation, a combinator, FOR UPDATE, an EXPLAIN) is not a shape: the ORM writes
# that query whole, as it would anyway.


class _NotAShape(Exception):
    pass


_ATOMS = (str, int, bool, float, type(None))


def _freeze(value: Any) -> Any:
    kind = type(value)
    if kind in _ATOMS:
        return value
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
    if isinstance(value, Field | ForeignObjectRel) or (
        isinstance(value, type) and issubclass(value, Model)
    ):
        return ("obj", id(value))  # one object a process: its identity is the whole of it
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
    compiler: Any
    converters: dict[int, Any]
    start: int
    end: int
    init_list: list[str]
    populators: list[RelatedPopulator]
    model: type[Model]


_UNSHAPED = object()  # a shape the ORM's own SQL could not be cut around its WHERE
KEPT_SHAPES = 2000  # a connection's; a slice (a page of a list) is part of a shape


def _shapes(connection: Any) -> OrderedDict[Any, Any]:
    kept = _SHAPES.get(connection)
    if kept is None:
        kept = _SHAPES[connection] = OrderedDict()
    return kept


_SHAPES: weakref.WeakKeyDictionary[Any, OrderedDict[Any, Any]] = weakref.WeakKeyDictionary()


def _cut(query: Any, using: str) -> Any:
    """The ORM writes the query whole (on a copy: writing adds select_related's joins) and
    its WHERE alone; the whole is cut around the WHERE, or the shape is given up."""
    compiler = query.chain().get_compiler(using=using)
    try:
        sql, params = compiler.as_sql()
        where, where_params = query.get_compiler(using=using).compile(query.where)
    except (EmptyResultSet, FullResultSet):
        return _UNSHAPED
    marker = f" WHERE {where}"
    if not where or sql.count(marker) != 1 or tuple(params) != tuple(where_params):
        return _UNSHAPED  # values outside the WHERE, or a WHERE not found once
    before, after = sql.split(marker)
    select, klass_info = compiler.select, compiler.klass_info
    columns = [s[0] for s in select[: compiler.col_count]]
    if compiler.annotation_col_map or klass_info is None or compiler.has_composite_fields(columns):
        return _UNSHAPED
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    shape = _Shape(
        before=before + " WHERE ",
        after=after,
        compiler=compiler,
        converters=compiler.get_converters(columns),
        start=start,
        end=end,
        init_list=[f[0].target.attname for f in select[start:end]],
        populators=_related_populators(klass_info, select, using),
        model=klass_info["model"],
    )
    # What is kept is the shape, not the query: its values (whom it was about, what was
    # searched for) are not kept in the process. Converting rows needs the compiler only.
    compiler.query = None
    return shape


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
        kept = _shapes(connection)
        shape = kept.get(key)
        if shape is None:
            shape = kept[key] = _cut(query, using)
            while len(kept) > KEPT_SHAPES:
                kept.popitem(last=False)
        else:
            kept.move_to_end(key)
        if shape is _UNSHAPED:
            yield from super().__iter__()
            return
        try:
            where, params = query.get_compiler(using=using).compile(query.where)
        except EmptyResultSet:
            return  # as the ORM: no one can match, so no query
        except FullResultSet:
            yield from super().__iter__()
            return
        sql = f"{shape.before}{where}{shape.after}"
        if settings.DSR_CHECK_SHAPES:
            _check(query, using, sql, params)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows: Any = cursor.fetchall()
        if shape.converters:
            rows = shape.compiler.apply_converters(rows, shape.converters)
        for row in rows:
            obj = shape.model.from_db(using, shape.init_list, row[shape.start : shape.end])
            for populator in shape.populators:
                populator.populate(row, obj)
            yield obj


def _check(query: Any, using: str, sql: str, params: Any) -> None:
    """Under test (DSR_CHECK_SHAPES): the SQL is what the ORM writes for the query whole."""
    expected, expected_params = query.chain().get_compiler(using=using).as_sql()
    if (expected, tuple(expected_params)) != (sql, tuple(params)):
        raise AssertionError(f"Shaped SQL differs from the ORM's:\n{sql}\n{expected}")
