"""Tamper evidence against someone who can edit the database (issue 8, ADR 0014).

Each test edits the trail behind the application's back, as an attacker with SQL would —
without the audit key, which never enters the database — and verify_audit must name what
was done. Checkpoints were written (outside the database) before each attack.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dsr.core import chain
from dsr.core import verify as verify_module
from dsr.core.models import AuditChain, AuditEvent
from dsr.core.verify import (
    APPENDED,
    BACKDATED,
    BEFORE_START,
    BEHIND_CHECKPOINT,
    CHAIN_GONE,
    CHANGED,
    CHECKPOINT_UNREADABLE,
    CHECKPOINTS,
    DIFFERS_FROM_CHECKPOINT,
    FOUND_UNSEALED,
    HEAD_EMPTIED,
    HEAD_GONE,
    HEAD_REWRITTEN,
    KEY_NOT_ROTATED,
    MISSING,
    MOVED,
    NOT_CHECKPOINTED,
    OUT_OF_ORDER,
    REPEATED,
    RESIGNED,
    RETIRED_KEY,
    SHOWN_ALTERED,
    TAIL_CUT,
    UNKNOWN_KEY,
    _keyless,
    read_checkpoints,
    verify,
    write_checkpoint,
)
from dsr.places.models import Place
from tests import factories
from tests.helpers import in_threads


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
    tamper_sql("UPDATE core_auditevent SET seq = 999999 WHERE id = %s", [third.pk])
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


def move_an_event_into_another_places_chain(key: str) -> None:
    elsewhere = factories.make_place("Elsewhere")
    tamper_sql(
        "UPDATE core_auditevent SET place_id = %s WHERE id = %s", [elsewhere.pk, nth(key, 3).pk]
    )


def alter_the_people_an_event_showed(key: str) -> None:
    tamper_sql(
        "INSERT INTO core_auditshown (event_id, person_id) VALUES (%s, %s)", [nth(key, 3).pk, 1]
    )


def sign_with_a_key_this_server_does_not_hold(key: str) -> None:
    last = nth(key, last_seq(key))
    tamper_sql("UPDATE core_auditevent SET key_id = 'theirs' WHERE id = %s", [last.pk])


def insert_a_forged_event_before_the_first(key: str) -> None:
    """A row at position 0, past the check constraint (an owner can drop it): it would show
    in a person's access history, and a walk from position 1 would never read it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # nothing pending before the DDL
            cursor.execute(
                "ALTER TABLE core_auditevent DROP CONSTRAINT audit_positions_start_at_one"
            )
        else:
            cursor.execute("PRAGMA ignore_check_constraints = 1")
    try:
        _forge(key, 0, "0" * 64)
    finally:
        if connection.vendor != "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA ignore_check_constraints = 0")


def insert_a_second_event_at_a_taken_position(key: str) -> None:
    """A copy of #3 beside it, its unique index dropped by the database's owner: it would
    show in the person's access log."""
    tamper_sql("DROP INDEX audit_one_event_per_position")
    tamper_sql(
        "INSERT INTO core_auditevent (at, actor_label, place_id, action, object_type,"
        " object_id, person_id, changes, request_id, chain, seq, key_id, prev_hash, hash)"
        " SELECT at, 'forger', place_id, 'exported', 'Person', '1', person_id, changes,"
        " 'forged', chain, seq, key_id, prev_hash, hash FROM core_auditevent WHERE id = %s",
        [nth(key, 3).pk],
    )


def rewrite_the_checkpointed_event(key: str) -> None:
    last = nth(key, last_seq(key)).pk
    tamper_sql("UPDATE core_auditevent SET hash = %s WHERE id = %s", ["e" * 64, last])


def cut_the_tail_and_let_the_next_page_seal_over_it(key: str) -> None:
    cut_the_tail_and_wind_back_the_head(key)
    factories.make_person(Place.objects.get(pk=nth(key, 1).place_id))


def tear_the_checkpoint_file(key: str) -> None:
    with open(settings.AUDIT_CHECKPOINT_FILE, "a") as file:
        file.write(json.dumps({"chain": key, "length": 1})[:20])  # cut short mid-line


def delete_the_head_row(key: str) -> None:
    tamper_sql("DELETE FROM core_auditchain WHERE key = %s", [key])


def wind_the_head_back_to_empty(key: str) -> None:
    tamper_sql(
        "UPDATE core_auditchain SET length = 0, head = %s, seal = '' WHERE key = %s",
        ["0" * 64, key],
    )


ATTACKS: list[tuple[Callable[[str], None], set[str]]] = [
    # The twelve
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
    # and one for each other kind of problem verify_audit names
    (move_an_event_into_another_places_chain, {MOVED, CHANGED}),
    (alter_the_people_an_event_showed, {SHOWN_ALTERED}),
    (sign_with_a_key_this_server_does_not_hold, {UNKNOWN_KEY}),
    (insert_a_forged_event_before_the_first, {BEFORE_START}),
    (insert_a_second_event_at_a_taken_position, {REPEATED}),
    (rewrite_the_checkpointed_event, {DIFFERS_FROM_CHECKPOINT, CHANGED}),
    (cut_the_tail_and_let_the_next_page_seal_over_it, {FOUND_UNSEALED}),
    (tear_the_checkpoint_file, {CHECKPOINT_UNREADABLE}),
    (delete_the_head_row, {HEAD_GONE}),
    (wind_the_head_back_to_empty, {HEAD_EMPTIED}),
]

# Kinds whose attack needs more than the trail fixture: each has its own test in this
# module, which names the kind.
NAMED_BY_THEIR_OWN_TEST = {
    KEY_NOT_ROTATED: "test_an_old_key_cannot_sign_events_after_its_rotation",  # keys
    NOT_CHECKPOINTED: "test_events_left_out_of_every_checkpoint_for_too_long_are_named",  # lag
    RETIRED_KEY: "test_a_leaked_old_key_cannot_start_a_chain_after_its_rotation",  # keys
    BACKDATED: "test_an_event_written_after_a_checkpoint_and_dated_back_before_it_is_named",
}


@pytest.mark.parametrize(("attack", "named"), ATTACKS, ids=[a.__name__ for a, _ in ATTACKS])
def test_verify_audit_names_each_kind_of_tampering(trail, attack, named):
    attack(trail)
    report = verify()
    found = {p.kind for p in report.problems or [] if p.chain in (trail, CHECKPOINTS)}
    assert named <= found, (found, report.problems)


def kinds_verify_can_report() -> set[str]:
    """Every kind dsr/core/verify.py files a Problem under, read from its source."""
    tree = ast.parse(Path(verify_module.__file__).read_text())
    kinds = set()
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "Problem":
            given = [*call.args[1:2], *(k.value for k in call.keywords if k.arg == "kind")]
            for node in given:
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                kinds |= {getattr(verify_module, name) for name in names if name.isupper()}
    return kinds


def test_every_kind_verify_audit_can_report_is_shown_by_an_attack():
    """A kind of problem no attack here makes verify_audit name is a check nobody has seen
    work; an attack expecting a kind verify no longer files tests nothing."""
    names = [attack.__name__ for attack, _ in ATTACKS]
    assert len(set(names)) == len(names)
    expected = set().union(*(named for _, named in ATTACKS), NAMED_BY_THEIR_OWN_TEST)
    reportable = kinds_verify_can_report()
    assert reportable - expected == set(), "no attack shows these"
    assert expected - reportable == set(), "verify never files these"
    source = Path(__file__).read_text()
    for kind, test in NAMED_BY_THEIR_OWN_TEST.items():
        constant = next(n for n in dir(verify_module) if getattr(verify_module, n) == kind)
        body = source[source.index(f"def {test}(") :].split("\ndef ", 1)[0]
        assert constant in body, (test, constant)


def test_a_middle_delete_is_not_also_called_a_cut_tail(trail):
    """A chain's head is held to its last position, not its count (found by an attack)."""
    delete_from_the_middle(trail)
    found = {p.kind for p in verify().problems or [] if p.chain == trail}
    assert MISSING in found and TAIL_CUT not in found


# Beyond the twelve: what a reviewer tried next.


def test_a_forged_event_numbered_before_the_chain_is_named(trail):
    insert_a_forged_event_before_the_first(trail)
    found = {p.kind for p in verify().problems or [] if p.chain == trail}
    assert found == {BEFORE_START}  # and the real chain around it is still whole


def test_the_application_cannot_write_an_event_before_a_chain_starts(trail):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        _forge(trail, 0, "0" * 64)


def test_a_cut_tail_is_not_sealed_over_by_the_next_event(place_a, tmp_path, settings):
    """No checkpoint since the cut: the head's seal is what shows it. The next append must
    not seal the damage over in silence: the chain records, signed, that its head was
    found unsealed, verify_audit names that for good, and the service goes on."""
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "none-yet.jsonl")
    for _ in range(3):
        factories.make_person(place_a)
    key = chain.chain_for(place_a.pk)
    cut_the_tail_and_wind_back_the_head(key)
    wound_back = AuditChain.objects.get(key=key).length
    factories.make_person(place_a)
    found = AuditEvent.objects.get(chain=key, seq=wound_back + 1)
    assert (found.action, found.changes["length"]) == ("head_unsealed", wound_back)
    problems = [p for p in verify().problems or [] if p.chain == key]
    assert [(p.kind, p.event_id) for p in problems] == [(FOUND_UNSEALED, found.pk)]
    factories.make_person(place_a)  # later events are not flagged again
    assert [p.kind for p in verify().problems or [] if p.chain == key] == [FOUND_UNSEALED]


OLD_KEY = "2026:the-old-audit-key-that-leaked-" + "o" * 32
NEW_KEY = "2027:the-new-audit-key-kept-safely-" + "n" * 32


def test_an_old_key_cannot_sign_events_after_its_rotation(place_a, settings):
    """Keys are rotated because one may have leaked: whoever holds the old key can sign
    and seal, so the chain itself must show the old key signing after the new one."""
    settings.AUDIT_KEYS = [*settings.AUDIT_KEYS, OLD_KEY]
    factories.make_person(place_a)
    settings.AUDIT_KEYS = [*settings.AUDIT_KEYS, NEW_KEY]
    factories.make_person(place_a)
    key = chain.chain_for(place_a.pk)
    assert verify().intact
    end = nth(key, last_seq(key))
    sign_with(OLD_KEY, key, end.place_id, end.at)
    problems = [p for p in verify().problems or [] if p.chain == key]
    assert [(p.kind, p.detail) for p in problems] == [(KEY_NOT_ROTATED, "2027 to 2026")]


def sign_with(secret_key: str, key: str, place_id: int | None, at) -> AuditEvent:
    """What whoever holds an audit key can do with SQL: sign an event onto the end of a
    chain (a new one if there is none), at any time, and seal the chain's head with it."""
    key_id, secret = secret_key.split(":")
    head = AuditChain.objects.filter(key=key).first()
    forged = AuditEvent(
        at=at,
        actor_label="forger",
        place_id=place_id,
        action="viewed",
        object_type="Person",
        chain=key,
        seq=(head.length if head else 0) + 1,
        key_id=key_id,
        prev_hash=head.head if head else chain.GENESIS,
    )
    forged.hash = chain.signature(forged, secret.encode())
    tamper_sql(
        "INSERT INTO core_auditevent (at, actor_label, place_id, action, object_type,"
        " object_id, changes, request_id, chain, seq, key_id, prev_hash, hash)"
        " VALUES (%s, 'forger', %s, 'viewed', 'Person', '', '{}', '', %s, %s, %s, %s, %s)",
        [at, place_id, key, forged.seq, key_id, forged.prev_hash, forged.hash],
    )
    head = head or AuditChain(key=key)
    head.length, head.head, head.key_id = forged.seq, forged.hash, key_id
    sealed = chain.seal(head, secret.encode())
    tamper_sql(
        "INSERT INTO core_auditchain (key, length, head, key_id, seal) VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (key) DO UPDATE SET length = excluded.length, head = excluded.head,"
        " key_id = excluded.key_id, seal = excluded.seal",
        [key, head.length, head.head, key_id, sealed],
    )
    return AuditEvent.objects.get(chain=key, seq=forged.seq)


def test_a_leaked_old_key_cannot_start_a_chain_after_its_rotation(place_a, place_b, settings):
    """The old key cannot sign onto a chain that has moved on (above); but a chain nobody
    has written yet (a new place, an unused lane) has no earlier key to move on from. The
    trail records when each key was rotated: an event signed with it more than the grace
    (AUDIT_CHECKPOINT_MAX_LAG_MINUTES: every server must take up a new key within it) after
    that is named, and an event dated back before it is named against the checkpoints
    (test_an_event_written_after_a_checkpoint_and_dated_back_before_it_is_named). A review
    found the old key could start a chain of its own in any place, with any events, unseen."""
    settings.AUDIT_KEYS = [*settings.AUDIT_KEYS, OLD_KEY]
    factories.make_person(place_a)
    settings.AUDIT_KEYS = [*settings.AUDIT_KEYS, NEW_KEY]
    factories.make_person(place_a)  # place A's chain records the rotation
    rotated = AuditEvent.objects.filter(action="key_rotated").order_by("at")[0].at
    grace = timedelta(minutes=settings.AUDIT_CHECKPOINT_MAX_LAG_MINUTES)
    sign_with(OLD_KEY, unused_lane(place_a), place_a.pk, rotated + grace)  # a server late
    assert verify().intact
    new_lane = unused_lane(place_b)
    forged = sign_with(OLD_KEY, new_lane, place_b.pk, rotated + 2 * grace)
    problems = [(p.chain, p.kind, p.event_id) for p in verify().problems or []]
    assert problems == [(new_lane, RETIRED_KEY, forged.pk)]


def unused_lane(place: Place) -> str:
    """A chain of the place's that nothing has been written to yet."""
    lanes = (chain.chain_for(place.pk, lane=lane) for lane in range(settings.AUDIT_CHAIN_LANES))
    return next(key for key in lanes if not AuditEvent.objects.filter(chain=key).exists())


def test_a_torn_checkpoint_line_is_named_and_the_other_checkpoints_still_hold(trail, settings):
    path = settings.AUDIT_CHECKPOINT_FILE
    with open(path, "a") as file:
        file.write('{"chain": "system", "len')  # cut short: a full disk, a crash
    delete_the_last_three(trail)
    problems = verify().problems or []
    assert CHECKPOINT_UNREADABLE in {p.kind for p in problems}
    assert BEHIND_CHECKPOINT in {p.kind for p in problems if p.chain == trail}


@pytest.mark.parametrize(
    "line",
    [
        '{"chain": "system", "at": "x", "length": 1e400, "head": "h"}',  # infinity
        '{"chain": "system", "at": "x", "length": 2.5, "head": "h"}',
        '{"chain": "system", "at": "x", "length": true, "head": "h"}',
        "[" * 100_000 + "]" * 100_000,  # deeper than json can read
        '["chain", "length"]',
    ],
)
def test_a_checkpoint_line_of_any_shape_is_named_not_a_crash(trail, settings, line):
    """Whoever can write to the checkpoint file must not be able to stop verify_audit
    before it names what else was done (here, a cut tail)."""
    with open(settings.AUDIT_CHECKPOINT_FILE, "a") as file:
        file.write(line + "\n")
    delete_the_last_three(trail)
    problems = verify().problems or []
    assert CHECKPOINT_UNREADABLE in {p.kind for p in problems}
    assert BEHIND_CHECKPOINT in {p.kind for p in problems if p.chain == trail}


def test_checkpoints_are_checked_in_one_query_a_chain_however_many_there_are(
    trail, settings, django_assert_max_num_queries
):
    for _ in range(50):
        write_checkpoint(every=True)
    chains = len(read_checkpoints())
    with django_assert_max_num_queries(4 + 3 * chains):
        assert verify().intact
    last = nth(trail, last_seq(trail)).pk
    tamper_sql("UPDATE core_auditevent SET hash = %s WHERE id = %s", ["e" * 64, last])
    assert DIFFERS_FROM_CHECKPOINT in {p.kind for p in verify().problems if p.chain == trail}


def _lines(settings) -> list[dict]:
    with open(settings.AUDIT_CHECKPOINT_FILE) as file:
        return [json.loads(line) for line in file]


def test_a_checkpoint_writes_only_the_chains_that_moved_since_the_file_last_had_them(
    trail, place_a, place_b, settings
):
    factories.make_person(place_b)
    assert {p["chain"] for p in write_checkpoint()} == {chain.chain_for(place_b.pk)}
    before = _lines(settings)
    assert write_checkpoint() == []  # nothing moved: every five minutes all night, no lines
    assert _lines(settings) == before
    factories.make_person(place_a)
    moved = write_checkpoint()
    heads = dict(AuditChain.objects.values_list("key", "head"))
    assert moved and all(heads[p["chain"]] == p["head"] for p in moved)
    assert chain.chain_for(place_b.pk) not in {p["chain"] for p in moved}  # it stayed put
    assert _lines(settings) == before + moved
    delete_the_last_three(trail)  # after the last line about it: still caught
    assert BEHIND_CHECKPOINT in {p.kind for p in verify().problems if p.chain == trail}


@pytest.mark.parametrize("how", ["rotated", "note lost", "note garbled", "asked"])
def test_a_new_file_or_an_unknown_note_gets_every_chain(trail, settings, tmp_path, how):
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    note = path.with_name(path.name + ".last")
    every = False
    if how == "rotated":
        path.rename(tmp_path / "archived.jsonl")
    elif how == "note lost":
        note.unlink()
    elif how == "note garbled":
        note.write_text('{"file": [1, 2')
    else:
        every = True
    written = {p["chain"] for p in write_checkpoint(every=every)}
    assert written == set(AuditChain.objects.values_list("key", flat=True))
    assert write_checkpoint() == []
    if how == "rotated":
        assert verify().intact and verify(tmp_path / "archived.jsonl").intact


def test_a_file_someone_else_appended_to_is_not_trusted_to_hold_the_heads(trail, settings):
    with open(settings.AUDIT_CHECKPOINT_FILE, "a") as file:
        file.write("\n")  # another writer, a restored copy: the note no longer describes it
    assert {p["chain"] for p in write_checkpoint()} == set(
        AuditChain.objects.values_list("key", flat=True)
    )


def test_many_checkpoints_of_a_chain_are_checked_in_batches(trail, place_a, settings, monkeypatch):
    monkeypatch.setattr(verify_module, "_POSITIONS_A_QUERY", 2)
    for _ in range(3):
        factories.make_person(place_a)
        write_checkpoint()
    points = read_checkpoints()[trail]
    assert len(points) >= 4
    assert verify().intact
    first = min(length for length, _ in points)
    tamper_sql(
        "UPDATE core_auditevent SET hash = %s WHERE chain = %s AND seq = %s",
        ["e" * 64, trail, first],
    )
    found = [p for p in verify().problems if p.chain == trail and p.kind == DIFFERS_FROM_CHECKPOINT]
    assert len(found) == 1


def test_the_commands_say_what_they_wrote_and_verify_an_archived_file(trail, settings, tmp_path):
    out = StringIO()
    call_command("checkpoint_audit", stdout=out)
    chains = AuditChain.objects.count()
    assert f"0 chain heads written to {settings.AUDIT_CHECKPOINT_FILE} ({chains} unchanged" in (
        out.getvalue()
    )
    archived = tmp_path / "archived.jsonl"
    Path(settings.AUDIT_CHECKPOINT_FILE).rename(archived)
    call_command("checkpoint_audit", stdout=out)
    assert f"{chains} chain heads written" in out.getvalue()
    delete_the_last_three(trail)
    with pytest.raises(CommandError):
        call_command("verify_audit", "--checkpoints", str(archived), stdout=out, stderr=out)
    assert BEHIND_CHECKPOINT in out.getvalue()


def test_verify_reads_the_trail_a_batch_at_a_time(trail, place_a, monkeypatch):
    """Memory that grows with the trail would stop the nightly check as the register grows:
    no query verify runs may return more rows than a batch of events, or the chains."""
    monkeypatch.setattr(verify_module, "_BATCH", 3)
    for _ in range(3):
        factories.make_person(place_a)
    chains = AuditChain.objects.count()
    assert AuditEvent.objects.count() > 3 * max(3, chains)
    with CaptureQueriesContext(connection) as run:
        assert verify().intact
    with connection.cursor() as cursor:
        for query in run.captured_queries:
            if query["sql"].lstrip().upper().startswith("SELECT"):
                cursor.execute(query["sql"])
                assert len(cursor.fetchall()) <= max(3, chains), query["sql"]


def test_a_tail_cut_with_an_earlier_sealed_head_put_back_shows_only_against_a_checkpoint(
    trail, place_a, settings, tmp_path
):
    """Why verify_audit refuses to call a trail intact without a checkpoint file: an old head
    row (from a backup, say) carries a valid seal for ever, so a chain cut back to it is
    shorter but whole."""
    earlier = AuditChain.objects.values("length", "head", "seal", "key_id").get(key=trail)
    factories.make_person(place_a)
    write_checkpoint()
    for pk in AuditEvent.objects.filter(chain=trail, seq__gt=earlier["length"]).values_list(
        "id", flat=True
    ):
        tamper_sql("DELETE FROM core_auditevent WHERE id = %s", [pk])
    tamper_sql(
        "UPDATE core_auditchain SET length = %s, head = %s, seal = %s, key_id = %s WHERE key = %s",
        [earlier["length"], earlier["head"], earlier["seal"], earlier["key_id"], trail],
    )
    assert verify(tmp_path / "no-checkpoints.jsonl").intact
    assert BEHIND_CHECKPOINT in {p.kind for p in verify().problems if p.chain == trail}


def test_events_left_out_of_every_checkpoint_for_too_long_are_named(trail, place_a, place_b):
    """The checkpoint job writes nothing for a quiet chain, so a stopped job no longer shows
    as an old file: verify_audit names events that no checkpoint has caught up with."""
    factories.make_person(place_a)  # after the fixture's checkpoint
    factories.make_person(place_b)  # a chain no checkpoint has seen
    assert verify(lag=timedelta(hours=1)).intact  # written just now: the job has time
    late = {(p.chain, p.kind) for p in verify(lag=timedelta(0)).problems}
    new = chain.chain_for(place_b.pk)
    assert late == {(trail, NOT_CHECKPOINTED), (new, NOT_CHECKPOINTED)}
    write_checkpoint()
    assert verify(lag=timedelta(0)).intact


def test_an_event_written_after_a_checkpoint_and_dated_back_before_it_is_named(
    trail, place_a, place_b, settings
):
    """Whoever holds a key (the current one, or an old one: above) can sign an event dated
    whenever they like: that someone viewed a record last month, say. A checkpoint run
    writes every chain that moved since the last, so an event is in the first run more than
    the grace after it (an append's transaction may commit after a run that began before
    it; app servers' clocks may differ) or it was written after that run and dated back.
    Before a checkpoint, and between runs within the grace, an event's time is its own."""
    grace = timedelta(minutes=settings.AUDIT_CHECKPOINT_MAX_LAG_MINUTES)
    checkpointed = datetime.fromisoformat(_lines(settings)[-1]["at"])
    signing = settings.AUDIT_KEYS[-1]
    sign_with(signing, trail, place_a.pk, checkpointed - grace + timedelta(minutes=1))
    assert verify().intact  # as a transaction begun before the checkpoint ran
    dated_back = sign_with(signing, trail, place_a.pk, checkpointed - 2 * grace)
    other = unused_lane(place_b)  # no checkpoint has seen it: it must be newer
    new_chain = sign_with(signing, other, place_b.pk, checkpointed - timedelta(days=30))
    problems = [(p.chain, p.kind, p.event_id) for p in verify().problems or []]
    assert problems == [(trail, BACKDATED, dated_back.pk), (other, BACKDATED, new_chain.pk)]
    write_checkpoint()  # a later run holds them, but cannot say they were there before
    assert len(verify().problems or []) == 2


def test_verify_audit_holds_the_current_file_to_its_lag_and_an_archived_one_not(
    trail, place_a, settings, tmp_path, capsys
):
    factories.make_person(place_a)
    settings.AUDIT_CHECKPOINT_MAX_LAG_MINUTES = 0
    with pytest.raises(CommandError, match="not intact"):
        call_command("verify_audit")
    assert f"{trail}: chain: {NOT_CHECKPOINTED}" in capsys.readouterr().err
    archived = tmp_path / "archived.jsonl"
    Path(settings.AUDIT_CHECKPOINT_FILE).rename(archived)
    call_command("verify_audit", "--checkpoints", str(archived))
    assert "Audit trail intact" in capsys.readouterr().out


def test_a_second_event_at_the_last_position_of_a_batch_is_read_and_named(trail, monkeypatch):
    """Read a batch at a time by position, a forged row sharing the batch's last position
    (its unique index dropped by the database's owner) fell between two batches: never read,
    and shown first in its person's access log. Found by a review."""
    monkeypatch.setattr(verify_module, "_BATCH", 3)
    tamper_sql("DROP INDEX audit_one_event_per_position")
    third = nth(trail, 3)
    tamper_sql(
        "INSERT INTO core_auditevent (at, actor_label, place_id, action, object_type,"
        " object_id, person_id, changes, request_id, chain, seq, key_id, prev_hash, hash)"
        " SELECT at, 'forger', place_id, 'exported', 'Person', '1', person_id, changes,"
        " 'forged', chain, seq, key_id, prev_hash, hash FROM core_auditevent WHERE id = %s",
        [third.pk],
    )
    forged = AuditEvent.objects.filter(chain=trail, seq=3).exclude(pk=third.pk).get()
    named = {(p.kind, p.event_id) for p in verify().problems if p.chain == trail}
    assert (REPEATED, forged.pk) in named


@pytest.mark.parametrize("changes", ["null", "[]", '{"shown": [[1]]}', '{"shown": 7}'])
def test_an_event_whose_changes_are_not_an_object_is_named_not_a_crash(trail, changes):
    """A row written by hand with null or a list where an event's details go stopped
    verify_audit with a traceback, and nothing else it would have named was reported."""
    event = nth(trail, 4)
    tamper_sql("UPDATE core_auditevent SET changes = %s WHERE id = %s", [changes, event.pk])
    edit_without_rehash(trail)  # something else it must still name
    kinds = {(p.kind, p.event_id) for p in verify().problems if p.chain == trail}
    assert (CHANGED, event.pk) in kinds
    assert (CHANGED, nth(trail, 3).pk) in kinds


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="pages appending while it runs: a server's"
)
def test_pages_appending_while_verify_runs_are_not_false_alarms(
    place_a, tmp_path, settings, monkeypatch
):
    """Heads read first and chains walked after, each page's append in between made its
    chain longer than its head: the nightly check failed whenever people were working."""
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    factories.make_person(place_a)
    write_checkpoint()
    reading = verify_module.read_checkpoints

    def meanwhile(*args, **kwargs):
        def page(_: int) -> None:
            for _ in range(3):
                chain.append(
                    [
                        AuditEvent(
                            actor_label="a page",
                            place_id=place_a.pk,
                            action="viewed",
                            at=timezone.now(),
                            changes={},
                        )
                    ]
                )

        assert in_threads(page) == []
        return reading(*args, **kwargs)

    monkeypatch.setattr(verify_module, "read_checkpoints", meanwhile)
    report = verify()
    assert report.intact, [str(p) for p in report.problems]
    monkeypatch.undo()
    assert verify().intact  # and the appends themselves are whole


@pytest.mark.parametrize("moment", ["infinity", "-infinity", "9999-12-31 00:00:00+00"])
def test_an_event_cannot_be_written_at_a_moment_that_never_comes(trail, moment):
    """'infinity', which PostgreSQL stores and Python cannot read, stopped verify_audit and
    the person's access log with a single row the application's own role may insert
    (found by a review): the table refuses it."""
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_auditevent (at, actor_label, action, object_type, object_id,"
            " changes, request_id, chain, seq, key_id, prev_hash, hash)"
            " VALUES (%s, 'x', 'viewed', '', '', '{}', '', 'a', 1, 'k', %s, %s)",
            [moment, "0" * 64, "0" * 64],
        )
    assert verify().intact


@pytest.mark.skipif(
    "connection.vendor != 'sqlite'", reason="PostgreSQL's check cannot be switched off per session"
)
def test_an_event_dated_at_the_end_of_the_calendar_is_named_not_a_crash(trail):
    """The time checks add the grace to an event's time: a row dated 31 December 9999 (the
    table's check dropped by its owner) overflowed, and verify_audit stopped (a review)."""
    from datetime import UTC

    last = nth(trail, last_seq(trail))
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA ignore_check_constraints = 1")  # the connection's: put back
        try:
            tamper_sql(
                "UPDATE core_auditevent SET at = %s WHERE id = %s",
                [datetime(9999, 12, 31, 23, 30, tzinfo=UTC), last.pk],
            )
        finally:
            cursor.execute("PRAGMA ignore_check_constraints = 0")
    assert CHANGED in {p.kind for p in verify().problems or [] if p.chain == trail}
