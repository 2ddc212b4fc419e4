"""The outbox against a real mail server on a real socket (ADR 0014): a message is retried
only when the server cannot have it, never once the server may have taken it, and two
senders at once deliver each message exactly once."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from django.db import connection, connections  # noqa: F401 - `connection` names the skipif engine

from dsr.core import outbox
from dsr.core.models import OutboxStatus, OutgoingEmail


class FakeSMTP(socketserver.ThreadingTCPServer):
    """A tiny mail server on 127.0.0.1, one thread per connection. What it does with a
    message depends on its recipient's name: `drop…` closes the connection once it has the
    whole message, `silent…` says nothing more, `reject…` refuses it after the data (554),
    `refuse…` refuses the recipient (550 at RCPT), `quit…` takes it and garbles its reply to
    QUIT; anyone else's message is taken (250), after `delay` seconds."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.received: list[str] = []  # the recipient of every whole message the server had
        self.rcpts: list[str] = []  # every RCPT it was sent
        self.delay = 0.0
        self.stop = threading.Event()
        self.lock = threading.Lock()


def _kind(address: str) -> str:
    return address.split("@")[0].rstrip("0123456789")


class _Session(socketserver.StreamRequestHandler):
    server: FakeSMTP

    def say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.say("220 fake.example ESMTP")
        to = ""
        while line := self.rfile.readline():
            verb = line[:4].decode().upper()
            if verb in ("EHLO", "HELO"):
                self.say("250 fake.example")
            elif verb in ("MAIL", "RSET", "NOOP"):
                self.say("250 OK")
            elif verb == "RCPT":
                to = line.decode().split("<", 1)[1].split(">", 1)[0]
                with self.server.lock:
                    self.server.rcpts.append(to)
                if _kind(to) == "drip":  # each line in time for EMAIL_TIMEOUT, no end
                    while not self.server.stop.wait(0.2):
                        try:
                            self.say("250-Still thinking")
                        except OSError:
                            return
                    return
                self.say("550 No such user" if _kind(to) == "refuse" else "250 OK")
            elif verb == "DATA":
                self.say("354 Go ahead")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                with self.server.lock:
                    self.server.received.append(to)
                if _kind(to) == "drop":
                    return  # the connection closes: the reply never comes
                if _kind(to) == "silent":
                    self.server.stop.wait()
                    return
                time.sleep(self.server.delay)
                self.say("554 Rejected" if _kind(to) == "reject" else "250 Queued")
            elif verb == "QUIT":
                # smtplib refuses a reply line over 8192 bytes
                self.say("221 " + "x" * 9000 if _kind(to) == "quit" else "221 Bye")
                return
            else:
                self.say("502 Not implemented")


@pytest.fixture
def smtp_server(settings) -> Iterator[FakeSMTP]:
    server = FakeSMTP()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.server_address[1]
    settings.EMAIL_TIMEOUT = 1
    yield server
    server.stop.set()
    server.shutdown()
    server.server_close()
    thread.join()


def statuses() -> dict[str, str]:
    return dict(OutgoingEmail.objects.values_list("to", "status"))


@pytest.mark.parametrize("kind", ["drop", "silent"])
def test_a_message_the_server_may_have_taken_is_unknown_and_never_sent_again(db, smtp_server, kind):
    """The server had the whole message, then the connection closed (or went silent)
    before its answer: the message may have gone, so it is never retried. The rest go."""
    for to in ["first@example.org", f"{kind}@example.org", "last@example.org"]:
        outbox.queue(to=to, subject="Due today", body="See My work")
    assert outbox.send_pending() == {"sent": 2, "failed": 0, "unknown": 1}
    for _ in range(outbox.ATTEMPTS + 1):  # later runs leave it alone
        outbox.send_pending()
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
    assert outbox.send_pending() == {"sent": 1, "failed": 1, "unknown": 0}
    assert statuses() == {
        "drip@example.org": OutboxStatus.PENDING,
        "after@example.org": OutboxStatus.SENT,
    }
    assert "drip@example.org" not in smtp_server.received


def test_a_recipient_refused_before_the_data_is_retried_then_given_up(db, smtp_server):
    """Refused at RCPT: the server never had the message, so it is safe to try again."""
    outbox.queue(to="refuse@example.org", subject="Due", body="x")
    outbox.queue(to="ok@example.org", subject="Due", body="x")
    assert outbox.send_pending() == {"sent": 1, "failed": 1, "unknown": 0}
    refused = OutgoingEmail.objects.get(to="refuse@example.org")
    assert refused.status == OutboxStatus.PENDING and "SMTPRecipientsRefused" in refused.last_error
    for _ in range(outbox.ATTEMPTS + 1):
        outbox.send_pending()
    refused.refresh_from_db()
    assert refused.status == OutboxStatus.FAILED and refused.attempts == outbox.ATTEMPTS
    assert smtp_server.rcpts.count("refuse@example.org") == outbox.ATTEMPTS
    assert smtp_server.received == ["ok@example.org"]


def test_a_message_the_server_refused_after_its_data_is_retried(db, smtp_server):
    """A 554 after the data is the server saying it did not take the message."""
    outbox.queue(to="reject@example.org", subject="Due", body="x")
    assert outbox.send_pending() == {"sent": 0, "failed": 1, "unknown": 0}
    assert statuses() == {"reject@example.org": OutboxStatus.PENDING}
    outbox.send_pending()
    assert smtp_server.received == ["reject@example.org"] * 2


def test_a_message_the_server_took_is_sent_even_if_quit_then_fails(db, smtp_server):
    """The server answered 250 to the message; what goes wrong afterwards (its reply to
    QUIT) does not make the message unsent, and it is not sent again."""
    outbox.queue(to="quit@example.org", subject="Due", body="x")
    assert outbox.send_pending() == {"sent": 1, "failed": 0, "unknown": 0}
    outbox.send_pending()
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
    assert outbox.send_pending() == {"sent": 0, "failed": 1, "unknown": 0}
    message = OutgoingEmail.objects.get()
    assert message.status == OutboxStatus.PENDING and "ConnectionRefused" in message.last_error


def test_the_console_backend_still_sends(db, settings, capsys):
    """Demo mode prints mail to the terminal: the outbox keeps the configured backend."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    outbox.queue(to="a@example.org", subject="Printed", body="In the terminal")
    assert outbox.send_pending() == {"sent": 1, "failed": 0, "unknown": 0}
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
