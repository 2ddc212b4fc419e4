"""The audit trail: keyed per-place chains, written with the change (ADR 0004, ADR 0014)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from dsr.core import audit, chain
from dsr.core import verify as verify_kinds
from dsr.core.models import AuditAction, AuditChain, AuditEvent, AuditShown
from dsr.core.verify import verify, write_checkpoint
from dsr.people import services
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import in_threads


def test_the_trail_of_real_events_verifies(place_a):
    factories.make_person(place_a)
    report = verify()
    assert report.intact, report.problems
    assert report.events_read == AuditEvent.objects.count() >= 2


def test_each_place_has_its_own_chain_and_events_without_a_place_the_system_chain(place_a, place_b):
    factories.make_person(place_a)
    factories.make_person(place_b)
    audit.record(
        context=audit.Context(actor=None, place_id=None, actor_label="job"),
        action=AuditAction.VIEWED,
        object_type="Test",
    )
    chains = dict(AuditChain.objects.values_list("key", "length"))
    assert chain.chain_for(place_a.pk) in chains and chain.chain_for(place_b.pk) in chains
    assert chains[chain.SYSTEM] >= 1
    for key, length in chains.items():
        seqs = list(
            AuditEvent.objects.filter(chain=key).order_by("seq").values_list("seq", flat=True)
        )
        assert seqs == list(range(1, length + 1)), key


def test_a_places_events_spread_over_its_lanes_each_a_whole_verified_chain(
    place_a, place_b, monkeypatch, settings, tmp_path
):
    """Processes writing for one place append to its lanes (AUDIT_CHAIN_LANES), so they do
    not all queue on one head; each lane is a chain of its own, checkpointed and verified."""
    settings.AUDIT_CHAIN_LANES = 4
    for pid in (8, 9, 10, 11, 12):  # five processes: lanes 0, 1, 2, 3 and 0 again
        monkeypatch.setattr(chain.os, "getpid", lambda pid=pid: pid)
        audit.record(
            context=SYSTEM, action=AuditAction.VIEWED, object_type="Test", place_id=place_a.pk
        )
    written = AuditEvent.objects.filter(object_type="Test").order_by("id")
    base = f"place:{place_a.pk}"
    assert [e.chain for e in written] == [base, f"{base}.1", f"{base}.2", f"{base}.3", base]
    lanes = set(AuditChain.objects.filter(key__startswith=base).values_list("key", flat=True))
    assert {base, f"{base}.1", f"{base}.2", f"{base}.3"} <= lanes  # and the fixture's own
    assert all(chain.belongs(key, place_a.pk) for key in lanes)
    assert not any(chain.belongs(key, place_b.pk) for key in lanes)
    points = tmp_path / "checkpoints.jsonl"
    assert lanes <= {p["chain"] for p in write_checkpoint(points)}
    assert verify(points).intact


def test_one_lane_a_place_keeps_a_single_chain(place_a, monkeypatch, settings):
    settings.AUDIT_CHAIN_LANES = 1
    for pid in (5, 6, 7):
        monkeypatch.setattr(chain.os, "getpid", lambda pid=pid: pid)
        assert chain.chain_for(place_a.pk) == f"place:{place_a.pk}"


def test_an_event_filed_in_another_places_lane_is_caught(place_a, place_b, monkeypatch):
    monkeypatch.setattr(chain.os, "getpid", lambda: 1)
    event = audit.record(
        context=SYSTEM, action=AuditAction.VIEWED, object_type="Test", place_id=place_a.pk
    )
    assert event.chain == f"place:{place_a.pk}.1"
    assert chain.belongs(event.chain, place_a.pk)
    assert not chain.belongs(event.chain, place_b.pk)
    assert not chain.belongs(f"place:{place_a.pk}0.1", place_a.pk)  # not a prefix match


def test_verify_audit_command_succeeds_on_an_intact_trail(place_a, settings, capsys):
    call_command("checkpoint_audit")
    factories.make_place("Place C")  # a chain begun since the checkpoint
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "Audit trail intact" in out
    assert f"held to 1 checkpoints in {settings.AUDIT_CHECKPOINT_FILE}" in out
    assert "(1 chains newer than the last checkpoint)" in out


def test_verify_audit_without_a_checkpoint_file_says_so_and_fails(place_a, settings, capsys):
    """A wrong path or a checkpoint job that never ran must not pass as 'intact': without
    checkpoints, a tail cut and its head put back as it was would go unseen."""
    with pytest.raises(CommandError, match="No checkpoint file at .*--without-checkpoints"):
        call_command("verify_audit")
    Path(settings.AUDIT_CHECKPOINT_FILE).touch()  # there, but nothing in it yet
    with pytest.raises(CommandError, match="No checkpoints in "):
        call_command("verify_audit")
    capsys.readouterr()
    call_command("verify_audit", "--without-checkpoints")
    assert "Audit trail intact" in (out := capsys.readouterr().out)
    assert "without checkpoints" in out


def test_the_model_refuses_to_update_or_delete_an_event(place_a):
    event = AuditEvent.objects.first()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete_of_audit_rows(place_a):
    event_id = AuditEvent.objects.values_list("id", flat=True).first()
    for statement in (
        "UPDATE core_auditevent SET actor_label = 'x' WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="refused"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event_id])


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the trigger is PostgreSQL's")
def test_a_chain_head_only_ever_grows(place_a):
    key = chain.chain_for(place_a.pk)
    with (
        pytest.raises(DatabaseError, match="refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE core_auditchain SET length = length - 1 WHERE key = %s", [key])


def test_an_event_needs_an_actor():
    with pytest.raises(ValueError, match="actor"):
        audit.record(context=audit.Context(actor=None, place_id=None), action=AuditAction.VIEWED)


def test_the_audit_event_rolls_back_with_a_failed_change(place_a):
    before = AuditEvent.objects.count()
    heads = list(AuditChain.objects.values_list("key", "length"))
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.make_person(place_a)
        raise RuntimeError("the business operation fails after writing")
    assert AuditEvent.objects.count() == before
    assert list(AuditChain.objects.values_list("key", "length")) == heads


def test_a_new_key_is_recorded_in_the_chain_and_old_events_still_verify(place_a, settings):
    factories.make_person(place_a)
    settings.AUDIT_KEYS = [*settings.AUDIT_KEYS, "2027:a-brand-new-audit-key-" + "y" * 32]
    factories.make_person(place_a)
    rotation = AuditEvent.objects.get(action="key_rotated", chain=chain.chain_for(place_a.pk))
    assert rotation.changes == {"from": "demo", "to": "2027"}
    assert verify().intact
    # a server that has lost the old key cannot vouch for the old events, and says so
    settings.AUDIT_KEYS = ["2027:a-brand-new-audit-key-" + "y" * 32]
    assert any("key this server does not hold" in p.kind for p in verify().problems)


NEW_KEY = "2027:a-brand-new-audit-key-" + "y" * 32


def _kinds() -> list[str]:
    return [problem.kind for problem in verify().problems or []]


def test_a_new_key_rolled_out_in_two_steps_is_no_tampering(place_a, settings):
    """A review: a server still on the old key appended after another had rotated the
    chain. It could not check the new seal, so it recorded the head as found unsealed, and
    signed with the older key: two problems on the chain for good, and nothing tampered
    with. Now a new key reaches every server first, still signing with the old one
    (AUDIT_SIGNING_KEY); then servers sign with it one by one, and a server not yet moved
    on signs a chain that has with the chain's own, later, key."""
    old = list(settings.AUDIT_KEYS)
    factories.make_person(place_a)
    settings.AUDIT_KEYS, settings.AUDIT_SIGNING_KEY = [*old, NEW_KEY], "demo"  # step one
    factories.make_person(place_a)
    assert not AuditEvent.objects.filter(action="key_rotated").exists()
    assert set(AuditEvent.objects.values_list("key_id", flat=True)) == {"demo"}
    settings.AUDIT_SIGNING_KEY = ""  # step two: server A
    factories.make_person(place_a)
    settings.AUDIT_SIGNING_KEY = "demo"  # server B, a minute later, not yet moved on
    factories.make_person(place_a)
    last = AuditEvent.objects.filter(chain=chain.chain_for(place_a.pk)).latest("seq")
    assert last.key_id == "2027"
    assert AuditEvent.objects.filter(action="key_rotated").count() == 1
    settings.AUDIT_SIGNING_KEY = ""
    assert _kinds() == []


def test_a_server_left_without_the_new_key_shows_in_the_trail(place_a, settings):
    """The step the two steps exist for, skipped: a server that does not hold the chain's
    key cannot check its seal, nor sign on with it. The trail says so rather than hide it."""
    old = list(settings.AUDIT_KEYS)
    factories.make_person(place_a)
    settings.AUDIT_KEYS = [*old, NEW_KEY]
    factories.make_person(place_a)
    settings.AUDIT_KEYS = old
    factories.make_person(place_a)
    settings.AUDIT_KEYS = [*old, NEW_KEY]
    assert sorted(_kinds()) == sorted([verify_kinds.FOUND_UNSEALED, verify_kinds.KEY_NOT_ROTATED])


def test_a_list_read_just_after_a_new_key_names_its_people_once_on_itself(place_a, settings):
    people = [factories.make_person(place_a).pk for _ in range(2)]
    settings.AUDIT_KEYS = [*settings.AUDIT_KEYS, "2027:a-brand-new-audit-key-" + "y" * 32]
    listed = audit.record_listed(
        context=SYSTEM,
        page="register",
        object_type="Person",
        person_ids=people,
        place_id=place_a.pk,
    )
    rotation = AuditEvent.objects.get(action="key_rotated", chain=chain.chain_for(place_a.pk))
    assert rotation.seq == listed.seq - 1  # the rotation went first, in the same append
    assert sorted(
        AuditShown.objects.filter(event=listed).values_list("person_id", flat=True)
    ) == sorted(people)
    assert not AuditShown.objects.filter(event=rotation).exists()
    assert verify().intact


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_every_chain_stays_linear_under_concurrent_writers():
    places = [factories.make_place(f"Busy place {n}") for n in range(3)]

    def writer(n: int) -> None:
        for i in range(15):
            with transaction.atomic():
                audit.record(
                    context=SYSTEM,
                    action=AuditAction.VIEWED,
                    object_type="Test",
                    object_id=f"{n}-{i}",
                    place_id=places[n % 3].pk,
                )

    assert in_threads(writer, 6) == []
    assert AuditEvent.objects.filter(object_type="Test").count() == 90
    report = verify()
    assert report.intact, report.problems


def test_an_events_details_are_kept_as_they_will_read_back_and_verify(place_a):
    """Plain details go in as they are; dates, tuples and keys that are not text as JSON
    would give them back, so that the hash signed now is the one verify computes."""
    import datetime
    import json

    odd = {
        "on": datetime.date(2026, 12, 6),
        "pair": (1, 2),
        "by_number": {3: "three"},
        "ratio": 0.5,
        "nested": [{"at": datetime.datetime(2026, 12, 6, 9, 30, tzinfo=datetime.UTC)}],
    }
    plain = {"page": "person", "fields": ["name", "café"], "count": 2, "flag": True, "none": None}
    for details in (odd, plain):
        event = audit.record(
            context=audit.Context(actor=None, place_id=place_a.pk, actor_label="job"),
            action=AuditAction.VIEWED,
            object_type="Test",
            changes=details,
        )
        expected = json.loads(json.dumps(details, default=str))
        assert event.changes == expected
        assert AuditEvent.objects.get(pk=event.pk).changes == expected
    assert verify().intact


def test_an_event_carrying_nul_is_written_with_the_replacement_character_and_verifies(place_a):
    """PostgreSQL's text and jsonb refuse U+0000: an event about input that carried one (a
    provider's error code, a caller other than a form) must still be written, not fail and
    leave what happened unaudited."""
    event = audit.record(
        context=audit.Context(
            actor=None, place_id=place_a.pk, actor_label="job\x00", request_id="r\x00"
        ),
        action=AuditAction.SIGN_IN_FAILED,
        object_type="Test\x00",
        object_id="7\x00",
        changes={"step": "provider error: \x00", "keys\x00": ["a\x00b", 1], "on": (1, "\x00")},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.changes == {
        "step": "provider error: \ufffd",
        "keys\ufffd": ["a\ufffdb", 1],
        "on": [1, "\ufffd"],
    }
    assert (stored.actor_label, stored.object_type, stored.object_id, stored.request_id) == (
        "job\ufffd",
        "Test\ufffd",
        "7\ufffd",
        "r\ufffd",
    )
    assert verify().intact


def test_viewing_a_person_is_audited_with_who_and_where(coordinator, cast, person_a):
    from dsr.core.access import Role
    from tests.helpers import at

    coordinator.get(at(person_a, "register:person"))
    event = AuditEvent.objects.filter(action="viewed", person_id=person_a.pk).last()
    assert event.actor == cast[Role.COORDINATOR]
    assert event.place_id == person_a.place_id
    assert event.chain == chain.chain_for(person_a.place_id)
    assert event.request_id


def test_changes_record_field_names_with_old_and_new_values(place_a):
    person = factories.make_person(place_a, postcode="ZZ99 1AA")
    services.update_person(
        person=person, data={"postcode": "zz99 2bb"}, expected_version=person.version, by=SYSTEM
    )
    event = AuditEvent.objects.filter(action="changed", person_id=person.pk).get()
    assert event.changes == {"postcode": ["ZZ99 1AA", "ZZ99 2BB"], "version": [1, 2]}


def test_verify_audit_exits_non_zero_naming_each_problem(place_a, capsys):
    factories.make_person(place_a)
    from tests.core.test_tampering import tamper_sql

    victim = AuditEvent.objects.filter(chain=chain.chain_for(place_a.pk)).order_by("seq")[1]
    tamper_sql("UPDATE core_auditevent SET actor_label = 'x' WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match="not intact"):
        call_command("verify_audit")
    assert f"event {victim.pk}: changed after it was written" in capsys.readouterr().err


def test_a_checkpoint_write_cut_short_is_cut_back_off(place_a, settings, monkeypatch):
    """An operator's review: a full disk tore a run's last line, and the next run's first
    line was appended onto it; verify_audit then named a checkpoint line unreadable, for
    good. A write cut short is now cut back off, and nothing else is lost."""
    import os

    from dsr.core import verify as checkpoints

    factories.make_person(place_a)
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    write_checkpoint(path, every=True)
    whole = path.read_bytes()
    factories.make_person(place_a)
    real_write = os.write

    def disk_full(descriptor, data):
        real_write(descriptor, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoints.os, "write", disk_full)
    with pytest.raises(checkpoints.CheckpointFileError, match="No space left on device"):
        write_checkpoint(path)
    monkeypatch.setattr(checkpoints.os, "write", real_write)
    assert path.read_bytes() == whole
    write_checkpoint(path)
    assert verify(path).intact


def test_a_torn_line_the_storage_keeps_costs_only_itself(place_a, settings):
    """Append-only storage refuses to cut the torn line back off: the next run starts on a
    line of its own, so verify_audit names the torn line and reads every other."""
    factories.make_person(place_a)
    path = Path(settings.AUDIT_CHECKPOINT_FILE)
    write_checkpoint(path, every=True)
    with path.open("ab") as file:
        file.write(b'{"at": "2026-01-0')  # a run cut short by a full disk, kept
    factories.make_person(place_a)
    write_checkpoint(path)
    lines = path.read_bytes().splitlines()
    assert lines[-2] == b'{"at": "2026-01-0' and lines[-1].startswith(b'{"at"')
    problems = verify(path).problems or []
    assert [p.kind for p in problems] == [verify_kinds.CHECKPOINT_UNREADABLE]


@pytest.mark.parametrize("fault", ["no folder", "a folder", "no note"])
def test_a_checkpoint_file_that_cannot_be_written_is_said_in_words(tmp_path, place_a, fault):
    """An operator's review: a folder for a file was a traceback; a missing folder (an
    unmounted store) was made without a word; where the note beside the file could not be
    written, every chain was appended, then the run failed, on every run."""
    factories.make_person(place_a)
    path = tmp_path / "store" / "checkpoints.jsonl"
    if fault == "a folder":
        path.mkdir(parents=True)
    if fault == "no note":  # its draft cannot be made (as in a folder that refuses it)
        path.with_name(path.name + ".last.draft").mkdir(parents=True)
    with pytest.raises(CommandError, match="Cannot write the audit checkpoint file"):
        call_command("checkpoint_audit", file=str(path))
    assert path.parent.exists() == (fault != "no folder")
    assert not path.is_file() or path.read_bytes() == b""
    if fault == "a folder":
        with pytest.raises(CommandError, match="Cannot read the checkpoint file"):
            call_command("verify_audit", checkpoints=str(path))


def test_a_key_missing_from_a_server_is_said_in_a_few_lines(place_a, settings):
    """An operator's review: verify_audit on a server without the key named each of 400,000
    events on its own line, 30 MB for an alert, with no summary."""
    from io import StringIO

    for _ in range(30):
        factories.make_person(place_a)
    settings.AUDIT_KEYS = ["other:" + "z" * 40]
    said = StringIO()
    with pytest.raises(CommandError, match="Audit trail not intact"):
        call_command("verify_audit", "--without-checkpoints", stderr=said)
    lines = said.getvalue().splitlines()
    events = AuditEvent.objects.count()
    assert len(lines) < 30 < events
    [summary] = [line for line in lines if line.endswith(f" x {verify_kinds.UNKNOWN_KEY}")]
    assert int(summary.split(" x ")[0]) >= events
    assert any("more events: " + verify_kinds.UNKNOWN_KEY in line for line in lines)


def test_two_checkpoint_runs_at_once_both_write_and_neither_fails(tmp_path):
    """A review: each run made the note's draft before taking the lock; the first to finish
    renamed it away, and the second, having appended its lines, failed to write its note."""
    import fcntl
    import os
    import threading
    import time

    from dsr.core import verify as checkpoints

    path = tmp_path / "checkpoints.jsonl"
    path.touch()
    held = os.open(path, os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)  # both runs queue behind this
    errors: list[BaseException] = []

    def run(n: int) -> None:
        point = {
            "chain": f"place:{n}",
            "length": 1,
            "head": "a" * 64,
            "at": "2026-01-01T00:00:00+00:00",
        }
        try:
            checkpoints.append_checkpoints(path, [point])
        except BaseException as error:  # noqa: BLE001 - held to [] below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    os.close(held)
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(path.read_text().splitlines()) == 2
