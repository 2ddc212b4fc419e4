"""`outbox_report` (ADR 0038): the mail that did not go, for an operator, until they
acknowledge it; it fails (exit 1) while there is any, so a monitor alerts. Never a body."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from dsr.core import outbox
from dsr.core.models import OutboxStatus, OutgoingEmail
from tests.core.fake_smtp import send_at

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BODY = "Body text that must stay in the database"


def report(*args: str, at: datetime = T0) -> tuple[str, str | None]:
    """What the command prints, and its error (None: it exited 0)."""
    out, err = StringIO(), StringIO()
    with time_machine.travel(at, tick=False):
        try:
            call_command("outbox_report", *args, stdout=out, stderr=err)
        except CommandError as error:
            return out.getvalue(), str(error)
    return out.getvalue(), None


@pytest.fixture
def outcomes(db, smtp_server, settings) -> dict[str, OutgoingEmail]:
    """One message of each outcome, sent at T0 (given up at its first failure)."""
    settings.OUTBOX_GIVE_UP_HOURS = 0
    with time_machine.travel(T0, tick=False):
        for to in ["refuse@example.org", "drop@example.org", "ok@example.org"]:
            outbox.queue(to=to, subject=f"DSR: for {to}", body=BODY)
    send_at(T0)
    return {m.status: m for m in OutgoingEmail.objects.all()}


def test_it_lists_failed_and_unknown_messages_and_fails(outcomes):
    failed, unknown = outcomes[OutboxStatus.FAILED], outcomes[OutboxStatus.UNKNOWN]
    out, error = report()
    rows = out.splitlines()
    assert rows[1] == "id\tstatus\tqueued\tlast tried\tattempts\tto\tsubject\tlast error"
    assert rows[2].startswith(
        f"{failed.pk}\tfailed\t2026-03-02 09:00\t2026-03-02 09:00\t1\trefuse@example.org"
        "\tDSR: for refuse@example.org\tSMTPRecipientsRefused: "
    )
    assert rows[3].startswith(f"{unknown.pk}\tunknown\t")
    assert "SMTPServerDisconnected" in rows[3]
    assert len(rows) == 4  # not the sent one
    assert BODY not in out
    assert error is not None and "2 failed or unknown message(s) not acknowledged" in error


def test_acknowledged_messages_stop_failing_it(outcomes):
    failed, unknown = outcomes[OutboxStatus.FAILED], outcomes[OutboxStatus.UNKNOWN]
    out, error = report("--acknowledge", str(failed.pk))
    assert "Acknowledged 1 message(s)." in out
    rows = out.splitlines()
    assert [row.split("\t")[0] for row in rows[3:]] == [str(unknown.pk)]
    assert error is not None
    out, error = report("--acknowledge", str(unknown.pk))
    assert error is None and "0 failed or unknown message(s) not acknowledged" in out
    assert OutgoingEmail.objects.filter(acknowledged_at=T0).count() == 2


def test_a_sent_message_cannot_be_acknowledged_and_all_the_others_can(outcomes):
    out, error = report("--acknowledge", str(outcomes[OutboxStatus.SENT].pk))
    assert "Acknowledged 0 message(s)." in out and error is not None
    out, error = report("--acknowledge-all")
    assert "Acknowledged 2 message(s)." in out and error is None


def test_it_fails_only_for_messages_last_tried_within_the_window(outcomes):
    out, error = report(at=T0 + timedelta(days=6, hours=23))
    assert error is not None
    out, error = report(at=T0 + timedelta(days=7, hours=1))
    assert error is None and "2 failed or unknown message(s) not acknowledged (0 last" in out
    assert f"{outcomes[OutboxStatus.FAILED].pk}\tfailed" in out  # still listed


def test_mail_still_waiting_hours_after_it_was_queued_fails_it(db, smtp_server):
    """The relay down since morning: nothing given up yet, but an operator should know."""
    smtp_server.down = True
    with time_machine.travel(T0, tick=False):
        waiting = outbox.queue(to="a@example.org", subject="Due", body=BODY)
    send_at(T0)
    assert report(at=T0 + timedelta(hours=1))[1] is None
    out, error = report(at=T0 + timedelta(hours=3))
    assert f"{waiting.pk}\tpending\t2026-03-02 09:00\t2026-03-02 09:00\t1\ta@example.org" in out
    assert error is not None and "1 waiting over 2 hours" in error
    smtp_server.down = False
    send_at(T0 + timedelta(hours=3))
    assert report(at=T0 + timedelta(hours=3))[1] is None
