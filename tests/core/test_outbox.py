"""Mail through the outbox (ADR 0014): a silent mail server holds up nobody, one failure
never stops the rest, and no message is ever sent twice."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connections, transaction
from django.utils import timezone

from dsr.core import audit, outbox
from dsr.core.models import AuditAction, OutboxStatus, OutgoingEmail
from dsr.core.verify import verify
from tests import factories
from tests.core.fake_smtp import every, send_at
from tests.factories import SYSTEM


@pytest.fixture
def silent_smtp(settings) -> Iterator[threading.Event]:
    """A local mail server that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = threading.Event()
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)  # keep it open, say nothing
            accepted.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", listener.getsockname()[1]
    settings.EMAIL_TIMEOUT = 2
    yield accepted
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_silent_mail_server_fails_each_message_and_stops_none(db, silent_smtp):
    for n in range(3):
        outbox.queue(to=f"user{n}@example.org", subject="Due today", body="See My work")
    counts = outbox.send_pending()
    assert counts == {"sent": 0, "retrying": 3, "failed": 0, "unknown": 0}
    messages = list(OutgoingEmail.objects.order_by("id"))
    assert all(m.status == OutboxStatus.PENDING and m.attempts == 1 for m in messages)
    assert all("timed out" in m.last_error.lower() for m in messages)


def test_failed_messages_are_retried_then_given_up_and_sent_ones_never_again(db, settings):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        ok = outbox.queue(to="ok@example.org", subject="Due", body="x")
        bad = outbox.queue(to="bad@example.org", subject="Due", body="x")
    settings.EMAIL_BACKEND = "tests.core.test_outbox.RefusesBad"
    for moment in every(timedelta(hours=1), start=start, until=start + timedelta(hours=30)):
        send_at(moment)
    ok.refresh_from_db()
    bad.refresh_from_db()
    assert ok.status == OutboxStatus.SENT and ok.attempts == 1
    assert bad.status == OutboxStatus.FAILED and bad.attempts == 25  # hourly, at 0 ... 24 h
    assert [m.to for m in mail.outbox] == [["ok@example.org"]]


def test_a_message_interrupted_mid_send_is_never_sent_again(db):
    message = outbox.queue(to="a@example.org", subject="Due", body="x")
    OutgoingEmail.objects.filter(pk=message.pk).update(
        status=OutboxStatus.SENDING, claimed_at=timezone.now() - timedelta(hours=2)
    )
    # counted and said, for the operator: nothing else shows an interrupted message
    assert outbox.send_pending() == {"sent": 0, "retrying": 0, "failed": 0, "unknown": 1}
    message.refresh_from_db()
    assert message.status == OutboxStatus.UNKNOWN and mail.outbox == []
    assert message.last_error == "Interrupted while sending"


def test_sending_a_few_messages_reports_on_those_only(db):
    """A page sending the invitation it has just queued was told of every interrupted
    message in the outbox, and said its own email may not have gone (found by a review)."""
    stuck = outbox.queue(to="stuck@example.org", subject="Due", body="x")
    OutgoingEmail.objects.filter(pk=stuck.pk).update(
        status=OutboxStatus.SENDING, claimed_at=timezone.now() - timedelta(hours=2)
    )
    fresh = outbox.queue(to="fresh@example.org", subject="Due", body="x")
    assert outbox.send_pending(only=[fresh.pk]) == {
        "sent": 1,
        "retrying": 0,
        "failed": 0,
        "unknown": 0,
    }
    # the stuck one is left for the scheduled run, which counts it (its exit code alerts)
    assert OutgoingEmail.objects.get(pk=stuck.pk).status == OutboxStatus.SENDING
    assert outbox.send_pending()["unknown"] == 1
    assert OutgoingEmail.objects.get(pk=stuck.pk).status == OutboxStatus.UNKNOWN


def test_mail_is_never_sent_from_inside_a_transaction(db):
    with pytest.raises(RuntimeError, match="after the transaction commits"), transaction.atomic():
        outbox.send_pending()


@pytest.mark.django_db(transaction=True)
def test_while_a_mail_server_is_silent_audited_work_in_the_same_place_goes_on(silent_smtp):
    """The reminder job queues in a transaction and sends after commit: no audit chain is
    held while it waits on the mail server, so writes in that place are not held up."""
    from django.core.management import call_command

    from dsr.actions import services as actions
    from dsr.core import dates
    from dsr.core.access import Role

    place = factories.make_place("Mailing place")
    coordinator = factories.make_user(place=place, role=Role.COORDINATOR)
    person = factories.make_person(place, rating="R")
    actions.open_action(
        person=person,
        description="Ring the family",
        due_on=dates.today(),
        source="other",
        owner_user=coordinator,
        by=SYSTEM,
    )
    job = threading.Thread(target=lambda: (call_command("send_reminders"), connections.close_all()))
    job.start()
    assert silent_smtp.wait(30), "the job never reached the mail server"
    with transaction.atomic():  # same place, same chain: must not wait for the mail
        audit.record(
            context=SYSTEM, action=AuditAction.VIEWED, object_type="Test", place_id=place.pk
        )
    assert job.is_alive(), "the audit write waited for the mail server"
    job.join()
    assert OutgoingEmail.objects.get(to=coordinator.email).status == OutboxStatus.PENDING
    assert verify().intact


class RefusesBad:
    """A mail backend that refuses one address: the failures are ours to survive."""

    def __init__(self, *args, **kwargs) -> None:
        from django.core.mail.backends.locmem import EmailBackend

        self.inner = EmailBackend(*args, **kwargs)

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        if any("bad@example.org" in m.to for m in messages):
            raise ConnectionRefusedError("no such mailbox")
        return self.inner.send_messages(messages)

    def open(self):  # type: ignore[no-untyped-def]
        return True

    def close(self) -> None:
        pass
