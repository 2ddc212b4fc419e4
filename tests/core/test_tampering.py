"""Tamper evidence against someone who can edit the database (issue 8, ADR 0014).

Each test edits the trail behind the application's back, as an attacker with SQL would —
without the audit key, which never enters the database — and verify_audit must name what
was done. Checkpoints were written (outside the database) before each attack.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from dsr.core import chain
from dsr.core.models import AuditChain, AuditEvent
from dsr.core.verify import (
    APPENDED,
    BEHIND_CHECKPOINT,
    CHAIN_GONE,
    CHANGED,
    HEAD_REWRITTEN,
    MISSING,
    OUT_OF_ORDER,
    RESIGNED,
    TAIL_CUT,
    _keyless,
    verify,
    write_checkpoint,
)
from tests import factories


def tamper_sql(statement: str, params: list | tuple = ()) -> None:
    """Run SQL past the triggers, as a database superuser could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(statement, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.fixture
def trail(place_a, tmp_path, settings):
    """Place A's chain with at least eight events, checkpointed outside the database."""
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    for _ in range(3):
        factories.make_person(place_a)
    key = chain.chain_for(place_a.pk)
    assert AuditChain.objects.get(key=key).length >= 8
    write_checkpoint()
    assert verify().intact
    return key


def nth(key: str, seq: int) -> AuditEvent:
    return AuditEvent.objects.get(chain=key, seq=seq)


def last_seq(key: str) -> int:
    return AuditEvent.objects.filter(chain=key).order_by("-seq").values_list("seq", flat=True)[0]


def rehash_without_the_key(event_id: int, **changes) -> str:
    """Rewrite an event and give it the hash a keyless attacker can compute."""
    event = AuditEvent.objects.get(pk=event_id)
    for name, value in changes.items():
        setattr(event, name, value)
    digest = _keyless(event)
    sets = ", ".join(f"{name} = %s" for name in [*changes, "hash"])
    tamper_sql(
        f"UPDATE core_auditevent SET {sets} WHERE id = %s",  # noqa: S608
        [*changes.values(), digest, event_id],
    )
    return digest


def relink_from(key: str, seq: int, prev_hash: str, shift: int = 0) -> str:
    """Re-link every event from `seq` on to the one before, renumbered by `shift`."""
    for event in AuditEvent.objects.filter(chain=key, seq__gte=seq).order_by(
        "-seq" if shift > 0 else "seq"
    ):
        tamper_sql(
            "UPDATE core_auditevent SET seq = %s WHERE id = %s", [event.seq + shift, event.pk]
        )
    for event in AuditEvent.objects.filter(chain=key, seq__gte=seq + shift).order_by("seq"):
        prev_hash = rehash_without_the_key(event.pk, prev_hash=prev_hash)
    return prev_hash


def wind_head(key: str, length: int, head: str) -> None:
    tamper_sql(
        "UPDATE core_auditchain SET length = %s, head = %s WHERE key = %s", [length, head, key]
    )


def edit_without_rehash(key: str) -> None:
    tamper_sql(
        "UPDATE core_auditevent SET actor_label = 'someone else' WHERE id = %s", [nth(key, 3).pk]
    )


def edit_and_rehash(key: str) -> None:
    new = rehash_without_the_key(nth(key, 3).pk, actor_label="someone else")
    head = relink_from(key, 4, new)
    wind_head(key, last_seq(key), head)


def delete_from_the_middle(key: str) -> None:
    tamper_sql("DELETE FROM core_auditevent WHERE id = %s", [nth(key, 4).pk])


def delete_from_the_middle_and_relink(key: str) -> None:
    before = nth(key, 3).hash
    tamper_sql("DELETE FROM core_auditevent WHERE id = %s", [nth(key, 4).pk])
    head = relink_from(key, 5, before, shift=-1)
    wind_head(key, last_seq(key), head)


def delete_the_last(key: str) -> None:
    tamper_sql("DELETE FROM core_auditevent WHERE id = %s", [nth(key, last_seq(key)).pk])


def delete_the_last_three(key: str) -> None:
    end = last_seq(key)
    ids = list(AuditEvent.objects.filter(chain=key, seq__gt=end - 3).values_list("id", flat=True))
    for pk in ids:
        tamper_sql("DELETE FROM core_auditevent WHERE id = %s", [pk])


def _forge(key: str, seq: int, prev_hash: str) -> int:
    template = nth(key, 2)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "INSERT INTO core_auditevent (at, actor_label, place_id, action, object_type,"
            " object_id, changes, request_id, chain, seq, key_id, prev_hash, hash)"
            " VALUES (%s, 'forger', %s, 'viewed', 'Person', '', '{}', '', %s, %s, %s, %s, %s)",
            [template.at, template.place_id, key, seq, template.key_id, prev_hash, f"f{seq:063d}"],
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    forged = AuditEvent.objects.get(chain=key, seq=seq)
    rehash_without_the_key(forged.pk)
    return forged.pk


def append_a_forged_event(key: str) -> None:
    end = nth(key, last_seq(key))
    _forge(key, end.seq + 1, end.hash)


def insert_a_forged_event_and_rehash(key: str) -> None:
    relink_from(key, 3, "0" * 64, shift=+1)  # make room at #3
    forged = _forge(key, 3, nth(key, 2).hash)
    head = relink_from(key, 4, AuditEvent.objects.get(pk=forged).hash)
    wind_head(key, last_seq(key), head)


def swap_two_events(key: str) -> None:
    third, fourth = nth(key, 3), nth(key, 4)
    tamper_sql("UPDATE core_auditevent SET seq = -1 WHERE id = %s", [third.pk])
    tamper_sql("UPDATE core_auditevent SET seq = 3 WHERE id = %s", [fourth.pk])
    tamper_sql("UPDATE core_auditevent SET seq = 4 WHERE id = %s", [third.pk])


def truncate_the_trail(key: str) -> None:
    for table in ("core_auditshown", "core_auditevent", "core_auditchain"):
        if connection.vendor == "postgresql":
            tamper_sql(f"TRUNCATE {table} CASCADE")
        else:
            tamper_sql(f"DELETE FROM {table}")  # noqa: S608


def cut_the_tail_and_wind_back_the_head(key: str) -> None:
    end = last_seq(key)
    delete_the_last_three(key)
    wind_head(key, end - 3, nth(key, end - 3).hash)


def delete_the_first(key: str) -> None:
    tamper_sql("DELETE FROM core_auditevent WHERE id = %s", [nth(key, 1).pk])


ATTACKS: list[tuple[Callable[[str], None], set[str]]] = [
    (edit_without_rehash, {CHANGED}),
    (edit_and_rehash, {RESIGNED, HEAD_REWRITTEN}),
    (delete_from_the_middle, {MISSING, OUT_OF_ORDER}),
    (delete_from_the_middle_and_relink, {RESIGNED, HEAD_REWRITTEN}),
    (delete_the_last, {TAIL_CUT}),
    (delete_the_last_three, {TAIL_CUT, BEHIND_CHECKPOINT}),
    (append_a_forged_event, {APPENDED, RESIGNED}),
    (insert_a_forged_event_and_rehash, {RESIGNED, HEAD_REWRITTEN}),
    (swap_two_events, {OUT_OF_ORDER, CHANGED}),
    (truncate_the_trail, {CHAIN_GONE}),
    (cut_the_tail_and_wind_back_the_head, {HEAD_REWRITTEN, BEHIND_CHECKPOINT}),
    (delete_the_first, {MISSING, OUT_OF_ORDER}),
]


@pytest.mark.parametrize(("attack", "named"), ATTACKS, ids=[a.__name__ for a, _ in ATTACKS])
def test_verify_audit_names_each_kind_of_tampering(trail, attack, named):
    attack(trail)
    report = verify()
    found = {p.kind for p in report.problems or [] if p.chain == trail}
    assert named <= found, (found, report.problems)


def test_twelve_kinds_are_covered():
    assert len(ATTACKS) == 12
