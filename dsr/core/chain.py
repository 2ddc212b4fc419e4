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

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

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


@dataclass(frozen=True)
class Keys:
    """The audit keys this server holds, by id; the last one signs new events."""

    by_id: dict[str, bytes]
    current: str

    @classmethod
    def from_settings(cls) -> Keys:
        by_id: dict[str, bytes] = {}
        current = ""
        for item in settings.AUDIT_KEYS:
            key_id, _, secret = item.partition(":")
            if not key_id or not secret:
                raise ValueError("AUDIT_KEYS entries are id:secret")
            by_id[key_id.strip()] = secret.strip().encode()
            current = key_id.strip()
        if not current:
            raise ValueError("No audit key: set AUDIT_KEYS")
        return cls(by_id, current)


def keys() -> Keys:
    return Keys.from_settings()


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


def _locked_head(key: str) -> AuditChain:
    """The chain's head row, locked until the transaction ends (created on first use)."""
    head = _select_head(key)
    if head is not None:
        return head
    try:
        with transaction.atomic():
            AuditChain.objects.create(key=key, head=GENESIS)
    except IntegrityError:
        pass  # another writer created it first: lock theirs
    head = _select_head(key)
    assert head is not None
    return head


def _select_head(key: str) -> AuditChain | None:
    if connection.vendor != "postgresql":
        return AuditChain.objects.select_for_update().filter(key=key).first()
    # Every audited request passes here while its chain is locked: plain SQL, not a
    # compiled queryset (make bench: the ORM's compiling was most of an append's time).
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, length, head, key_id, seal FROM {CHAINS} WHERE key = %s FOR UPDATE",  # noqa: S608
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


def _sign(head: AuditChain, event: AuditEvent, signer: Keys) -> AuditEvent:
    event.chain = head.key
    event.seq = head.length + 1
    event.key_id = signer.current
    event.prev_hash = head.head
    event.hash = signature(event, signer.by_id[signer.current])
    head.length, head.head, head.key_id = event.seq, event.hash, signer.current
    return event


def append(events: list[AuditEvent], *, shown: list[int] | None = None) -> list[AuditEvent]:
    """Append events to their places' chains, inside the caller's transaction.

    Each event's chain follows its `place_id`. Chains are locked in a fixed order, so two
    batches touching the same chains cannot deadlock. A chain first written with a new key
    records the rotation in the chain itself, signed with the new key. A head without our
    seal (wound back in the database: its tail cut, say) is not sealed over in silence:
    the chain first records, signed, that it was found so and what it held, and
    verify_audit names that record for as long as the chain exists; the service goes on.
    `shown`: the people a single event showed (audit.record), written with it as
    AuditShown rows.
    """
    if shown and len(events) != 1:
        raise ValueError("Only a single event carries the people it showed")
    signer = keys()
    by_chain: dict[str, list[AuditEvent]] = {}
    for event in events:
        by_chain.setdefault(chain_for(event.place_id), []).append(event)
    with transaction.atomic(savepoint=False):
        for key in sorted(by_chain):
            head = _locked_head(key)
            signed = []
            if not _sealed(head, signer):
                signed.append(_sign(head, _unsealed(head, by_chain[key][0]), signer))
            if head.length and head.key_id != signer.current:
                signed.append(_sign(head, _rotation(head, by_chain[key][0], signer), signer))
            signed += [_sign(head, event, signer) for event in by_chain[key]]
            head.seal = seal(head, signer.by_id[signer.current])
            _write(head, signed, shown)
    return events


EVENTS = AuditEvent._meta.db_table
CHAINS = AuditChain._meta.db_table
SHOWN = AuditShown._meta.db_table
COLUMNS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]


def _write(head: AuditChain, events: list[AuditEvent], shown: list[int] | None) -> None:
    """The chain's new events, its moved head and the people shown. On PostgreSQL one
    statement, so the chain's lock is held for one round trip after it is taken."""
    people = [int(p) for p in shown or []]
    if connection.vendor != "postgresql":
        for event in events:
            event.save()
        head.save(update_fields=["length", "head", "key_id", "seal"])
        if people:
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {SHOWN} (event_id, person_id) VALUES (%s, %s)",  # noqa: S608
                    [(events[-1].pk, p) for p in people],
                )
        return
    row = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    params: list[Any] = []
    for event in events:
        params += [f.get_db_prep_save(getattr(event, f.attname), connection) for f in COLUMNS]
    params += [head.length, head.head, head.key_id, head.seal, head.pk]
    also = ""
    if people:  # the last event's: a key rotation may go before it in the same append
        also = (
            f", shown AS (INSERT INTO {SHOWN} (event_id, person_id)"  # noqa: S608
            " SELECT id, unnest(%s::bigint[]) FROM added WHERE seq = %s)"
        )
        params += [people, events[-1].seq]
    names = ", ".join(connection.ops.quote_name(str(f.column)) for f in COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH added AS (INSERT INTO {EVENTS} ({names}) VALUES "  # noqa: S608
            f"{', '.join([row] * len(events))} RETURNING id, seq),"
            f" moved AS (UPDATE {CHAINS} SET length = %s, head = %s, key_id = %s, seal = %s"
            f" WHERE id = %s){also} SELECT id FROM added ORDER BY seq",
            params,
        )
        for event, (pk,) in zip(events, cursor.fetchall(), strict=True):
            event.pk = pk
            event._state.adding = False
            event._state.db = connection.alias


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


def _rotation(head: AuditChain, first: AuditEvent, signer: Keys) -> AuditEvent:
    return AuditEvent(
        at=first.at,
        actor_label="audit trail",
        place_id=first.place_id,
        action=AuditAction.KEY_ROTATED,
        object_type="AuditChain",
        object_id=head.key,
        changes={"from": head.key_id, "to": signer.current},
        request_id=first.request_id,
    )
