"""The outbox against a real mail server on a real socket (ADR 0014): a message is retried
only when the server cannot have it, never once the server may have taken it, and two
senders at once deliver each message exactly once."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, connections  # noqa: F401 - `connection` names the skipif engine

from dsr.core import outbox
from dsr.core.models import OutboxStatus, OutgoingEmail
from tests.core.fake_smtp import every, send_at

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def statuses() -> dict[str, str]:
    return dict(OutgoingEmail.objects.values_list("to", "status"))


@pytest.mark.parametrize("kind", ["drop", "silent"])
def test_a_message_the_server_may_have_taken_is_unknown_and_never_sent_again(db, smtp_server, kind):
    """The server had the whole message, then the connection closed (or went silent)
    before its answer: the message may have gone, so it is never retried. The rest go."""
    with time_machine.travel(T0, tick=False):
        for to in ["first@example.org", f"{kind}@example.org", "last@example.org"]:
            outbox.queue(to=to, subject="Due today", body="See My work")
    assert send_at(T0) == {"sent": 2, "retrying": 0, "failed": 0, "unknown": 1}
    # later runs leave it alone, however long after (past every wait and the give-up time)
    for moment in every(timedelta(minutes=30), start=T0, until=T0 + timedelta(hours=25)):
        assert send_at(moment)["unknown"] == 0
    assert statuses() == {
        "first@example.org": OutboxStatus.SENT,
        f"{kind}@example.org": OutboxStatus.UNKNOWN,
        "last@example.org": OutboxStatus.SENT,
    }
    assert Counter(smtp_server.received) == {
        "first@example.org": 1,
        f"{kind}@example.org": 1,
        "last@example.org": 1,
    }
    unknown = OutgoingEmail.objects.get(to=f"{kind}@example.org")
    assert unknown.attempts == 1 and "SMTPServerDisconnected" in unknown.last_error


def test_a_server_that_drips_its_replies_for_ever_is_cut_off_and_the_rest_go(
    db, smtp_server, settings
):
    """EMAIL_TIMEOUT bounds each read, and a line every few seconds never trips it: the
    sender waited for ever and the message stayed 'sending'. Cut off at the deadline, before
    the server had the message: retried later, and the rest are sent meanwhile."""
    settings.EMAIL_SEND_DEADLINE_S = 1
    for to in ["drip@example.org", "after@example.org"]:
        outbox.queue(to=to, subject="Due today", body="See My work")
    assert outbox.send_pending() == {"sent": 1, "retrying": 1, "failed": 0, "unknown": 0}
    assert statuses() == {
        "drip@example.org": OutboxStatus.PENDING,
        "after@example.org": OutboxStatus.SENT,
    }
    assert "drip@example.org" not in smtp_server.received


def test_a_recipient_refused_before_the_data_is_retried_then_given_up(db, smtp_server, settings):
    """Refused at RCPT: the server never had the message, so it is safe to try again: after
    1, 2, 4 ... minutes (each run of a 5-minute job takes what is due), the last try at the
    give-up time itself, then failed."""
    settings.OUTBOX_GIVE_UP_HOURS = 2
    with time_machine.travel(T0, tick=False):
        outbox.queue(to="refuse@example.org", subject="Due", body="x")
        outbox.queue(to="ok@example.org", subject="Due", body="x")
    assert send_at(T0) == {"sent": 1, "retrying": 1, "failed": 0, "unknown": 0}
    refused = OutgoingEmail.objects.get(to="refuse@example.org")
    assert refused.status == OutboxStatus.PENDING and "SMTPRecipientsRefused" in refused.last_error
    tried_at = [0]
    for moment in every(timedelta(minutes=5), start=T0, until=T0 + timedelta(hours=3)):
        before = OutgoingEmail.objects.get(pk=refused.pk).attempts
        counts = send_at(moment)
        if OutgoingEmail.objects.get(pk=refused.pk).attempts > before:
            tried_at.append(int((moment - T0).total_seconds() // 60))
        assert counts["failed"] == (1 if moment == T0 + timedelta(hours=2) else 0)
    refused.refresh_from_db()
    assert tried_at == [0, 5, 10, 15, 25, 45, 80, 120]
    assert refused.status == OutboxStatus.FAILED and refused.attempts == len(tried_at)
    assert refused.claimed_at == T0 + timedelta(hours=2)
    assert smtp_server.rcpts.count("refuse@example.org") == len(tried_at)
    assert smtp_server.received == ["ok@example.org"]


def test_a_message_the_server_refused_after_its_data_is_retried(db, smtp_server):
    """A 554 after the data is the server saying it did not take the message."""
    with time_machine.travel(T0, tick=False):
        outbox.queue(to="reject@example.org", subject="Due", body="x")
    assert send_at(T0) == {"sent": 0, "retrying": 1, "failed": 0, "unknown": 0}
    assert statuses() == {"reject@example.org": OutboxStatus.PENDING}
    send_at(T0 + outbox.FIRST_WAIT)
    assert smtp_server.received == ["reject@example.org"] * 2


def test_a_message_the_server_took_is_sent_even_if_quit_then_fails(db, smtp_server):
    """The server answered 250 to the message; what goes wrong afterwards (its reply to
    QUIT) does not make the message unsent, and it is not sent again."""
    with time_machine.travel(T0, tick=False):
        outbox.queue(to="quit@example.org", subject="Due", body="x")
    assert send_at(T0) == {"sent": 1, "retrying": 0, "failed": 0, "unknown": 0}
    send_at(T0 + timedelta(hours=2))
    assert statuses() == {"quit@example.org": OutboxStatus.SENT}
    assert smtp_server.received == ["quit@example.org"]


def test_a_refused_connection_is_retried(db, settings):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 1
    outbox.queue(to="a@example.org", subject="Due", body="x")
    assert outbox.send_pending() == {"sent": 0, "retrying": 1, "failed": 0, "unknown": 0}
    message = OutgoingEmail.objects.get()
    assert message.status == OutboxStatus.PENDING and "ConnectionRefused" in message.last_error


def test_the_console_backend_still_sends(db, settings, capsys):
    """Demo mode prints mail to the terminal: the outbox keeps the configured backend."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    outbox.queue(to="a@example.org", subject="Printed", body="In the terminal")
    assert outbox.send_pending() == {"sent": 1, "retrying": 0, "failed": 0, "unknown": 0}
    assert "Subject: Printed" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_two_senders_at_once_deliver_every_message_exactly_once(smtp_server):
    smtp_server.delay = 0.02  # each message takes a while, so the two runs overlap
    addresses = [f"person{n}@example.org" for n in range(20)]
    for to in addresses:
        outbox.queue(to=to, subject="Due", body="x")
    start = threading.Barrier(2)
    counts: list[dict[str, int]] = []

    def run() -> None:
        try:
            start.wait()
            counts.append(outbox.send_pending())
        finally:
            connections.close_all()

    senders = [threading.Thread(target=run) for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert sorted(smtp_server.received) == sorted(addresses)  # each once, none missing
    assert all(c["sent"] > 0 for c in counts), "the two runs did not overlap"
    assert sum(c["sent"] for c in counts) == 20
    assert set(statuses().values()) == {OutboxStatus.SENT}
    assert set(OutgoingEmail.objects.values_list("attempts", flat=True)) == {1}
