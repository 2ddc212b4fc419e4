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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import RelatedPopulator, get_related_populators

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
