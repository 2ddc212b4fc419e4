"""The audit trail's chains: keys, keyed hashes and appending (ADR 0014).

Each place's events form a chain of their own, and events with no place the system chain,
so writers in different places never wait on one another. An event is signed with a keyed
hash (HMAC-SHA-256) of its content, its chain and position, and its predecessor's hash;
the key comes from the environment (`AUDIT_KEYS`), never the database, so nobody who can
only edit the database can forge, re-link or re-seal a chain. Each chain's head row carries
a seal, a keyed hash of its length and head, so its tail cannot be cut off unseen either.

Appending locks the chain's head row until the caller's transaction ends: no network or
file I/O may happen while a transaction holds a chain (mail goes through the outbox).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import weakref
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction

from dsr.core import keyring
from dsr.core.keyring import Keys
from dsr.core.models import AuditAction, AuditChain, AuditEvent, AuditShown

GENESIS = "0" * 64
SYSTEM = "system"
LEGACY = "legacy"  # events written before chains were keyed and split (plain SHA-256)


def chain_for(place_id: int | None, lane: int | None = None) -> str:
    """The chain a process writes a place's events to: one of the place's lanes
    (`AUDIT_CHAIN_LANES`), chosen by the process, so that the workers serving one busy place
    do not all queue on one chain's head. Each lane is a whole chain: keyed, sealed,
    checkpointed and verified like any other. Events with no place: the system chain."""
    if place_id is None:
        return SYSTEM
    if lane is None:
        lane = os.getpid() % max(1, settings.AUDIT_CHAIN_LANES)
    return f"place:{place_id}" if lane == 0 else f"place:{place_id}.{lane}"


def belongs(key: str, place_id: int | None) -> bool:
    """Whether a chain is one that holds this place's events (any of its lanes)."""
    return key.split(".", 1)[0] == chain_for(place_id, lane=0)


def keys() -> Keys:
    return keyring.parse(tuple(settings.AUDIT_KEYS), settings.AUDIT_SIGNING_KEY)


def _content(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "place_id": event.place_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "person_id": event.person_id,
        "changes": event.changes,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }


def _canonical(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def legacy_hash(event: AuditEvent) -> str:
    """How events were hashed before ADR 0014: plain SHA-256 over the content."""
    return hashlib.sha256(_canonical(_content(event))).hexdigest()


def signature(event: AuditEvent, key: bytes) -> str:
    """The keyed hash of an event: its content, its chain and place in it, and its key."""
    content = {**_content(event), "chain": event.chain, "seq": event.seq, "key_id": event.key_id}
    return hmac.new(key, _canonical(content), hashlib.sha256).hexdigest()


def seal(chain: AuditChain, key: bytes) -> str:
    """The keyed hash of a chain's head: its length and last hash cannot be wound back."""
    message = f"{chain.key}|{chain.length}|{chain.head}|{chain.key_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _locked_head(key: str, db: Any) -> AuditChain:
    """The chain's head row, locked until the transaction ends (created on first use)."""
    head = _select_head(key, db)
    if head is not None:
        return head
    try:
        with transaction.atomic():
            AuditChain.objects.create(key=key, head=GENESIS)
    except IntegrityError:
        pass  # another writer created it first: lock theirs
    head = _select_head(key, db)
    assert head is not None
    return head


def _select_head(key: str, db: Any, *, lock: bool = True) -> AuditChain | None:
    if db.vendor != "postgresql":
        heads = AuditChain.objects.select_for_update() if lock else AuditChain.objects
        return heads.filter(key=key).first()
    # Every audited request passes here: plain SQL, not a compiled queryset (make bench:
    # the ORM's compiling was most of an append's time).
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT id, length, head, key_id, seal FROM {CHAINS} WHERE key = %s"  # noqa: S608
            + (" FOR UPDATE" if lock else ""),
            [key],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return AuditChain(id=row[0], key=key, length=row[1], head=row[2], key_id=row[3], seal=row[4])


def _sealed(head: AuditChain, signer: Keys) -> bool:
    """Whether the head carries our seal (a new chain has nothing to seal yet; a head wound
    back to empty collides on its first position instead)."""
    if not head.length:
        return True
    key = signer.by_id.get(head.key_id)
    return key is not None and hmac.compare_digest(seal(head, key), head.seal)


def _sign(head: AuditChain, event: AuditEvent, signer: Keys, key_id: str) -> AuditEvent:
    event.chain = head.key
    event.seq = head.length + 1
    event.key_id = key_id
    event.prev_hash = head.head
    event.hash = signature(event, signer.by_id[key_id])
    head.length, head.head, head.key_id = event.seq, event.hash, key_id
    return event


def append(events: list[AuditEvent], *, shown: list[int] | None = None) -> list[AuditEvent]:
    """Append events to their places' chains, inside the caller's transaction if there is
    one.

    Each event's chain follows its `place_id`. In a transaction (a service's change and
    its event), each chain's head row is locked until the transaction ends; chains are
    locked in a fixed order, so two batches touching the same chains cannot deadlock.
    Outside one (a page's read: the event is all there is to write), on PostgreSQL, the
    event goes in as one statement that moves the head only if it is still where it was
    read (`_append_alone`): no transaction to open and close, no lock held across a round
    trip. A chain first written with a new key records the rotation in the chain itself,
    signed with the new key. A head without our seal (wound back in the database: its tail
    cut, say) is not sealed over in silence: the chain first records, signed, that it was
    found so and what it held, and verify_audit names that record for as long as the chain
    exists; the service goes on. `shown`: the people a single event showed (audit.record),
    written with it as AuditShown rows.
    """
    if shown and len(events) != 1:
        raise ValueError("Only a single event carries the people it showed")
    signer = keys()
    by_chain: dict[str, list[AuditEvent]] = {}
    for event in events:
        by_chain.setdefault(chain_for(event.place_id), []).append(event)
    db = transaction.get_connection()  # once: each use of `connection` looks it up again
    alone = db.vendor == "postgresql" and not db.in_atomic_block and len(by_chain) == 1
    if alone and _append_alone(*next(iter(by_chain.items())), shown, signer, db):
        return events
    with transaction.atomic(savepoint=False):
        for key in sorted(by_chain):
            head = _locked_head(key, db)
            found = head.seal
            if not _write(head, _signed(head, by_chain[key], signer), shown, found, db):
                raise RuntimeError(f"The audit chain {key} moved while it was locked")
    return events


def _signed(head: AuditChain, events: list[AuditEvent], signer: Keys) -> list[AuditEvent]:
    """The events signed onto the head, after what the head calls for first (a record that
    it was found unsealed, a key rotation); the head moved past them and sealed."""
    signed = []
    key_id = signer.for_chain(head)
    if not _sealed(head, signer):
        signed.append(_sign(head, _unsealed(head, events[0]), signer, key_id))
    if head.length and head.key_id != key_id:
        signed.append(_sign(head, _rotation(head, events[0], key_id), signer, key_id))
    signed += [_sign(head, event, signer, key_id) for event in events]
    head.seal = seal(head, signer.by_id[key_id])
    return signed


# The head each connection last saw of each chain it wrote to: the likeliest place for its
# next event (a process writes to its own lane). Only a guess: the write moves the head only
# if it is still there, and a wrong guess costs a read of the head and another try.
_HEADS: weakref.WeakKeyDictionary[Any, dict[str, AuditChain]] = weakref.WeakKeyDictionary()
ALONE_TRIES = 5  # then the head is locked and waited for, as in a transaction


def _append_alone(
    key: str, events: list[AuditEvent], shown: list[int] | None, signer: Keys, db: Any
) -> bool:
    """Append outside any transaction, each try one statement; False to lock instead (a
    chain not yet created, or one so busy that the tries ran out)."""
    known = _HEADS.setdefault(db, {})
    for _ in range(ALONE_TRIES):
        head = known.pop(key, None) or _select_head(key, db, lock=False)
        if head is None:
            return False
        found = head.seal  # a guess must still carry the very seal it was taken with
        if _write(head, _signed(head, events, signer), shown, found, db):
            known[key] = head
            return True
    return False


EVENTS = AuditEvent._meta.db_table
CHAINS = AuditChain._meta.db_table
SHOWN = AuditShown._meta.db_table
COLUMNS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]


def _as_is(value: Any, db: Any) -> Any:
    return value


def _as_json(encoder: Any) -> Any:
    return lambda value, db: db.ops.adapt_json_value(value, encoder)


# How _write passes each column on PostgreSQL, where _write_sql casts every value to its
# column's type: the JSON as its field would, the rest as they are (audit.record and _sign
# make them). The fields' own get_db_prep_save, each looking up the connection again, took
# a quarter of an append's CPU (python -m bench.audit_writes, ADR 0036).
_PREPARED = [
    (f.attname, _as_json(f.encoder) if isinstance(f, models.JSONField) else _as_is) for f in COLUMNS
]


def _write(
    head: AuditChain,
    events: list[AuditEvent],
    shown: list[int] | None,
    found: str,
    db: Any,
) -> bool:
    """The chain's new events, its moved head and the people shown; False, writing nothing,
    if the head is no longer the one the events were signed onto: its length, last hash and
    seal (`found`) as read. The seal too: a head wound back to where a connection last left
    it, with the seal its rewinder could not make, must be read again and found unsealed,
    not sealed over from the connection's own copy. On PostgreSQL one statement: the events
    go in only if the head moved."""
    people = [int(p) for p in shown or []]
    before = (events[0].seq - 1, events[0].prev_hash, found)
    if db.vendor != "postgresql":
        moved = AuditChain.objects.filter(
            pk=head.pk, length=before[0], head=before[1], seal=before[2]
        ).update(length=head.length, head=head.head, key_id=head.key_id, seal=head.seal)
        if not moved:
            return False
        for event in events:
            event.save()
        if people:
            with db.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {SHOWN} (event_id, person_id) VALUES (%s, %s)",  # noqa: S608
                    [(events[-1].pk, p) for p in people],
                )
        return True
    params: list[Any] = [head.length, head.head, head.key_id, head.seal, head.pk, *before]
    for event in events:
        params += [prepare(getattr(event, name), db) for name, prepare in _PREPARED]
    if people:  # the last event's: a key rotation may go before it in the same append
        params += [people, events[-1].seq]
    with db.cursor() as cursor:
        cursor.execute(_write_sql(len(events), shown=bool(people)), params)
        ids = cursor.fetchall()
    if not ids:
        return False
    for event, (pk,) in zip(events, ids, strict=True):
        event.pk = pk
        event._state.adding = False
        event._state.db = db.alias
    return True


@functools.cache
def _write_sql(rows: int, *, shown: bool) -> str:
    """Move the head if it is where it was (its length and last hash), and add the events
    only if it moved; with `shown`, the people the last event showed too. Each value is
    cast to its column's type: the events come from a VALUES list, whose values PostgreSQL
    would otherwise take as text. One string for each shape, made once: the same string
    each time is also what the driver's cache of prepared statements looks up."""
    names = ", ".join(connection.ops.quote_name(str(f.column)) for f in COLUMNS)
    row = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in COLUMNS) + ")"
    also = (
        f", shown AS (INSERT INTO {SHOWN} (event_id, person_id)"  # noqa: S608
        " SELECT id, unnest(%s::bigint[]) FROM added WHERE seq = %s)"
        if shown
        else ""
    )
    return (
        f"WITH moved AS (UPDATE {CHAINS} SET length = %s, head = %s, key_id = %s, seal = %s"  # noqa: S608
        f" WHERE id = %s AND length = %s AND head = %s AND seal = %s RETURNING id),"
        f" added AS (INSERT INTO {EVENTS} ({names}) SELECT * FROM (VALUES"
        f" {', '.join([row] * rows)}) AS event ({names}) WHERE EXISTS (SELECT FROM moved)"
        f" RETURNING id, seq){also} SELECT id FROM added ORDER BY seq"
    )


def _unsealed(head: AuditChain, first: AuditEvent) -> AuditEvent:
    return AuditEvent(
        at=first.at,
        actor_label="audit trail",
        place_id=first.place_id,
        action=AuditAction.HEAD_UNSEALED,
        object_type="AuditChain",
        object_id=head.key,
        changes={"length": head.length, "head": head.head, "key_id": head.key_id},
        request_id=first.request_id,
    )


def _rotation(head: AuditChain, first: AuditEvent, key_id: str) -> AuditEvent:
    return AuditEvent(
        at=first.at,
        actor_label="audit trail",
        place_id=first.place_id,
        action=AuditAction.KEY_ROTATED,
        object_type="AuditChain",
        object_id=head.key,
        changes={"from": head.key_id, "to": key_id},
        request_id=first.request_id,
    )
