"""A mail relay out of service for hours loses nothing (ADR 0038): a message the server
cannot have had waits 1, 2, 4 ... minutes (at most an hour) between tries, is given up only
OUTBOX_GIVE_UP_HOURS after it was queued, and the job that gives it up fails, for the
scheduler's alert. Against a mail server on a real socket, with the clock moved."""

from __future__ import annotations

import logging
import socket
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from dsr.core import outbox
from dsr.core.models import OutboxStatus, OutgoingEmail
from tests.core.fake_smtp import FakeSMTP, every, running, send_at

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EVERY_5_MINUTES = timedelta(minutes=5)  # housekeeping's schedule (docs/deploy.md)


def _relay_at(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once it is closed


def _queue_at(moment: datetime, *addresses: str) -> None:
    with time_machine.travel(moment, tick=False):
        for to in addresses:
            outbox.queue(to=to, subject="Due today", body="See My work")


def _minutes(moment: datetime) -> int:
    return int((moment - T0).total_seconds() // 60)


@pytest.mark.parametrize("outage", ["connection refused", "421 not available"])
def test_a_relay_down_for_six_hours_then_back_delivers_each_message_exactly_once(
    db, settings, outage
):
    port = _free_port()
    _relay_at(settings, port)
    addresses = ["first@example.org", "second@example.org"]
    _queue_at(T0, *addresses)
    back = T0 + timedelta(hours=6)
    with ExitStack() as stack:
        server: FakeSMTP | None = None
        if outage == "421 not available":
            server = stack.enter_context(running(port))
            server.down = True
        for moment in every(EVERY_5_MINUTES, start=T0, until=back + timedelta(hours=2)):
            if moment == back:  # the relay is back
                if server is None:
                    server = stack.enter_context(running(port))
                server.down = False
            counts = send_at(moment)
            assert counts["failed"] == counts["unknown"] == 0, moment
            assert counts["sent"] == 0 or moment >= back
        assert server is not None
        assert Counter(server.received) == dict.fromkeys(addresses, 1)
        messages = list(OutgoingEmail.objects.all())
        assert {m.status for m in messages} == {OutboxStatus.SENT}
        # tried at 0, 5, 10, 15, 25, 45, 80 minutes, then hourly: not 72 times each
        assert [m.attempts for m in messages] == [12, 12]
        assert all(m.sent_at <= back + outbox.LONGEST_WAIT for m in messages)
        if outage == "421 not available":  # one connection a try, none between
            assert server.sessions == 24


def test_each_wait_doubles_from_a_minute_up_to_an_hour(db, settings):
    """A job run every minute tries the message only when its wait is over."""
    with running() as server:
        _relay_at(settings, server.server_address[1])
        server.down = True
        _queue_at(T0, "a@example.org")
        tried_at = []
        for moment in every(timedelta(minutes=1), start=T0, until=T0 + timedelta(minutes=200)):
            before = server.sessions
            send_at(moment)
            if server.sessions > before:
                tried_at.append(_minutes(moment))
    assert tried_at == [0, 1, 3, 7, 15, 31, 63, 123, 183]
    assert OutgoingEmail.objects.get().attempts == len(tried_at)


def test_a_message_is_given_up_only_when_the_total_has_passed_and_the_job_fails_then(
    db, settings, caplog
):
    """Default OUTBOX_GIVE_UP_HOURS: 24. The relay never comes back: `send_outbox` says
    nothing wrong while the message waits, and fails (exit 1) on the run that gives it up,
    after sending the rest; the message is logged at ERROR."""
    assert settings.OUTBOX_GIVE_UP_HOURS == 24
    caplog.set_level(logging.ERROR, logger="dsr.core.outbox")
    with running() as server:
        _relay_at(settings, server.server_address[1])
        server.down = True
        _queue_at(T0, "refuse@example.org")
        for moment in every(timedelta(hours=1), start=T0, until=T0 + timedelta(hours=23)):
            with time_machine.travel(moment, tick=False):
                call_command("send_outbox")  # no CommandError: waiting, not lost
        assert OutgoingEmail.objects.get().status == OutboxStatus.PENDING
        _queue_at(T0 + timedelta(hours=23, minutes=30), "fresh@example.org")
        server.down = False  # back, but refusing that recipient still
        with (
            time_machine.travel(T0 + timedelta(hours=24), tick=False),
            pytest.raises(CommandError, match="1 message.* given up"),
        ):
            call_command("send_outbox")
    lost = OutgoingEmail.objects.get(to="refuse@example.org")
    assert lost.status == OutboxStatus.FAILED and lost.claimed_at == T0 + timedelta(hours=24)
    assert OutgoingEmail.objects.get(to="fresh@example.org").status == OutboxStatus.SENT
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        f"Outbox message {lost.pk} given up after {lost.attempts} attempts"
    ]


def test_a_message_that_may_have_gone_fails_the_job_and_is_never_tried_again(
    db, smtp_server, caplog
):
    _queue_at(T0, "drop@example.org", "after@example.org")
    caplog.set_level(logging.ERROR, logger="dsr.core.outbox")
    with (
        time_machine.travel(T0, tick=False),
        pytest.raises(CommandError, match="1 may have been sent"),
    ):
        call_command("send_outbox")
    assert smtp_server.received == ["drop@example.org", "after@example.org"]  # the rest went
    assert OutgoingEmail.objects.get(to="after@example.org").status == OutboxStatus.SENT
    unknown = OutgoingEmail.objects.get(to="drop@example.org")
    assert unknown.status == OutboxStatus.UNKNOWN
    assert f"Outbox message {unknown.pk} may have been sent" in caplog.text
    for moment in every(timedelta(hours=1), start=T0, until=T0 + timedelta(hours=30)):
        with time_machine.travel(moment, tick=False):
            call_command("send_outbox")  # nothing new lost: no CommandError
    assert smtp_server.received.count("drop@example.org") == 1


def test_housekeeping_does_all_its_jobs_then_fails_when_mail_was_given_up(
    db, settings, smtp_server, tmp_path, capsys
):
    settings.OUTBOX_GIVE_UP_HOURS = 0  # the first failure gives it up
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    outbox.queue(to="refuse@example.org", subject="Due", body="x")
    outbox.queue(to="ok@example.org", subject="Due", body="x")
    with pytest.raises(SystemExit, match="send_outbox"):
        call_command("housekeeping")
    assert (tmp_path / "checkpoints.jsonl").exists()  # the jobs before it ran
    assert smtp_server.received == ["ok@example.org"]
    assert "send_outbox failed: Outbox: 1 message(s) given up" in capsys.readouterr().err


def test_the_reminder_job_fails_when_the_mail_it_sends_is_given_up(db, settings, smtp_server):
    """send_reminders sends the outbox too: it alerts as send_outbox does."""
    settings.OUTBOX_GIVE_UP_HOURS = 0
    outbox.queue(to="refuse@example.org", subject="Due", body="x")
    with pytest.raises(CommandError, match="1 message.* given up"):
        call_command("send_reminders")


@pytest.mark.django_db
def test_a_server_on_the_code_before_the_backoff_still_queues_mail():
    """A rolling deploy: the database is migrated while some servers still run the code
    before `next_attempt_at`, whose inserts do not name it (found by a review: each was a
    500, its audited change rolled back with it). The database's default makes it due."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO core_outgoingemail ("to", subject, body, status, attempts,'
            " last_error, created_at) VALUES ('a@example.org', 's', 'b', 'pending', 0, '',"
            " CURRENT_TIMESTAMP)"
        )
    message = OutgoingEmail.objects.get()
    assert message.next_attempt_at is not None
