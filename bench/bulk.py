"""Bulk writes for the generator: COPY of model rows, and the audit trail's hash chain.

Why COPY and not bulk_create: at 100,000 people bulk_create spent most of a minute per
table in Django's per-field preparation and in psycopg quoting the UNNEST arrays on the
client; COPY streams rows that the server parses while Python builds the next ones
(two cores). Imported after django.setup().
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from operator import attrgetter, itemgetter
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from dsr.core import chain
from dsr.core.models import AuditChain, AuditEvent

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# One audit event as planned: (at in µs since 1970, actor id, place id, action,
# object type, object id, person id, changes). Tuples: millions of them are held at once.
Spec = tuple[int, int | None, int | None, str, str, str, int | None, dict[str, Any]]


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(row)


def copy_models(objs: Sequence[models.Model]) -> None:
    """COPY unsaved model instances into their table, giving them ids first.

    Ids are taken from max(id) + 1 and the sequence moved past them: the generator is
    the only writer of a database it has just created. Callers can then link rows
    (ratings to people) without a round trip per row.
    """
    if not objs:
        return
    meta = type(objs[0])._meta
    table = meta.db_table
    fields = meta.concrete_fields
    stamps = [
        f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor, indexes_deferred(cursor, table):
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        next_id = cursor.fetchone()[0] + 1
        for obj in objs:
            obj.pk = next_id
            next_id += 1
            for stamp in stamps:  # COPY skips pre_save: fill what auto_now* would have
                if getattr(obj, stamp.attname) is None:
                    setattr(obj, stamp.attname, now)
        values = attrgetter(*(f.attname for f in fields))
        if json_columns:
            rows: Iterable[Sequence[Any]] = (_with_json(values(o), json_columns) for o in objs)
        else:
            rows = (values(o) for o in objs)
        copy_rows(table, [f.column for f in fields], rows)
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, next_id - 1])


def _with_json(row: tuple[Any, ...], positions: list[int]) -> list[Any]:
    out = list(row)
    for i in positions:
        out[i] = json.dumps(out[i])
    return out


@contextmanager
def indexes_deferred(cursor: Any, table: str) -> Iterator[None]:
    """Drop the table's secondary indexes and constraints, and rebuild them afterwards.

    Inserting 3 million rows into unique indexes on random hashes (and queueing a
    deferred foreign-key check per row) took PostgreSQL over ten minutes; building the
    same indexes once from sorted data, and checking each foreign key with one join,
    takes seconds. They are rebuilt from their own
    definitions, with their own names: the schema ends exactly as the migrations made it.
    """
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
        [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint"
        " WHERE conrelid = %s::regclass)",
        [table, table],
    )
    indexes = cursor.fetchall()
    for name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    yield
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    for _, definition in indexes:
        cursor.execute(definition)
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


class _Event:
    """What chain.signature reads of an event: one reused object, not millions of models."""

    __slots__ = (
        "chain",
        "seq",
        "key_id",
        "at",
        "actor_id",
        "actor_label",
        "place_id",
        "action",
        "object_type",
        "object_id",
        "person_id",
        "changes",
        "request_id",
        "prev_hash",
        "hash",
    )


AUDIT_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_label",
    "place_id",
    "action",
    "object_type",
    "object_id",
    "person_id",
    "changes",
    "request_id",
    "chain",
    "seq",
    "key_id",
    "prev_hash",
    "hash",
)


def write_audit_chain(
    specs: list[Spec],
    labels: dict[int, str],
    rng: random.Random,
    shared: Sequence[dict[str, Any]] = (),
    log: Callable[[str], None] = print,
) -> int:
    """COPY the planned events in time order, each appended to its place's chain (the
    system chain for events with no place) and signed with the app's own keyed hash
    (`chain.signature`), then write each chain's sealed head; `manage.py verify_audit`
    re-derives every one. The tables must hold no events yet (a fresh data set)."""
    specs.sort(key=itemgetter(0))
    table = AuditEvent._meta.db_table
    signer = chain.keys()
    key = signer.by_id[signer.current]
    # The JSON of change dicts that many events share (every "viewed"), encoded once.
    # Keyed by id(): they are alive throughout, so no other dict can have their id.
    encoded = {id(d): json.dumps(d) for d in shared}
    heads: dict[str, tuple[int, str]] = {}
    with transaction.atomic(), connection.cursor() as cursor, indexes_deferred(cursor, table):
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
        if cursor.fetchone()[0]:
            raise RuntimeError("write_audit_chain writes a fresh trail only")
        next_id = 1
        event = _Event()
        event.key_id = signer.current
        copy_sql = f"COPY {table} ({', '.join(AUDIT_COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for at_us, actor_id, place_id, action, otype, oid, person_id, changes in specs:
                event.chain = chain.chain_for(place_id)
                seq, prev = heads.get(event.chain, (0, chain.GENESIS))
                event.seq = seq + 1
                event.at = EPOCH + timedelta(microseconds=at_us)
                event.actor_id = actor_id
                event.actor_label = labels[actor_id] if actor_id else "bench generator"
                event.place_id = place_id
                event.action = action
                event.object_type = otype
                event.object_id = oid
                event.person_id = person_id
                event.changes = changes
                event.request_id = f"{rng.getrandbits(128):032x}"
                event.prev_hash = prev
                event.hash = chain.signature(event, key)  # type: ignore[arg-type]
                heads[event.chain] = (event.seq, event.hash)
                text = encoded.get(id(changes)) or json.dumps(changes)
                copy.write_row(
                    (
                        next_id,
                        event.at,
                        actor_id,
                        event.actor_label,
                        place_id,
                        action,
                        otype,
                        oid,
                        person_id,
                        text,
                        event.request_id,
                        event.chain,
                        event.seq,
                        event.key_id,
                        event.prev_hash,
                        event.hash,
                    )
                )
                next_id += 1
        log("audit events signed and copied; rebuilding the table's indexes")
        cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, next_id - 1])
    with transaction.atomic():
        for name, (length, last) in heads.items():
            head = AuditChain(key=name, length=length, head=last, key_id=signer.current)
            head.seal = chain.seal(head, key)
            head.save()
    return len(specs)
