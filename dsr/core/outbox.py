"""Mail goes through an outbox (ADR 0014): queued in the transaction that decides to send it,
sent after commit, one message at a time, outside any transaction.

So a mail server that accepts a connection and stays silent holds up nobody's page (no
audit chain is held while we wait on it; EMAIL_TIMEOUT bounds each wait, and
EMAIL_SEND_DEADLINE_S the whole of a message's sending, however slowly the server drips
its replies), one failure never
stops the rest, and a message is never sent twice. A failure before the mail server had the
message (connection refused, a timeout on connecting or on the greeting, authentication,
sender or recipients refused) leaves it waiting, each wait twice the last (`retry_wait`), and
it is given up ("failed") only OUTBOX_GIVE_UP_HOURS after it was queued (ADR 0038); so is
the server's own refusal of the message it was given. A failure once the server had the
whole message in hand but before it said whether it took it (the connection dropped, or it
went silent, after DATA) is marked "unknown" for an operator, never retried: it may have
gone. So is a message whose sending was interrupted (the process died mid-send). A failure
after the server took the message (at QUIT) is a sent message. Each message marked failed or
unknown is logged at ERROR; `outbox_report` lists them until an operator acknowledges them.

Django's SMTP backend cannot say how far a message got, so the outbox sends through
`SMTPBackend`, which can; any other backend (console in demo mode, locmem in tests) hands
nothing to a mail server, and what it raises is retried.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
import threading
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.core.mail.backends import smtp
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from dsr.core.models import OutboxStatus, OutgoingEmail

logger = logging.getLogger(__name__)

# The wait after a message's first failed attempt, doubled after each further one up to
# LONGEST_WAIT (ADR 0038): a blip costs a minute, a long outage an hour's lag at most.
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
# A claimed message not finished within this long was interrupted mid-send.
INTERRUPTED_AFTER = timedelta(hours=1)


# The sockets the SMTP connections this thread is opening: the deadline may fall while a
# connection is still being made (a greeting dripped a line at a time), before the backend
# has the connection to close.
_opening = threading.local()


class _Tracked:
    """An SMTP connection that records how far the message it is sending got."""

    handed_over = False  # the server said "go ahead" to DATA: from here it may have it all
    answer: int | None = None  # the server's reply to the whole message, if one came
    _in_data = False

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        opening = getattr(_opening, "sockets", None)
        if opening is not None:
            opening.append(sock)
        return sock  # type: ignore[no-any-return]

    def data(self, msg: Any) -> tuple[int, bytes]:
        self._in_data = True
        try:
            return super().data(msg)  # type: ignore[misc]
        finally:
            self._in_data = False

    def getreply(self) -> tuple[int, bytes]:
        code, text = super().getreply()  # type: ignore[misc]
        if self._in_data:
            if self.handed_over:
                self.answer = code
            elif code == 354:
                self.handed_over = True
        return code, text


class _SMTP(_Tracked, smtplib.SMTP):
    pass


class _SMTP_SSL(_Tracked, smtplib.SMTP_SSL):
    pass


class SMTPBackend(smtp.EmailBackend):
    """Django's SMTP backend, saying how far the last message got: used by the outbox only,
    in place of Django's (same settings)."""

    _last: _Tracked | None = None

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return _SMTP_SSL if self.use_ssl else _SMTP

    def send_messages(self, email_messages: Any) -> int:
        """As Django's, within EMAIL_SEND_DEADLINE_S: EMAIL_TIMEOUT bounds each read only,
        and a server that answers a line every few seconds and never finishes held a
        sender for ever, its message left 'sending' (found by a review). At the deadline
        the connection is shut, the send fails as a dropped connection does, and the
        message is retried or, if the server may have had it, marked unknown."""
        self._last = None
        opening: list[socket.socket] = []
        _opening.sockets = opening
        deadline = threading.Timer(settings.EMAIL_SEND_DEADLINE_S, self._cut_off, [opening])
        deadline.daemon = True
        deadline.start()
        try:
            return super().send_messages(email_messages)
        finally:
            deadline.cancel()
            _opening.sockets = None

    def _cut_off(self, opening: list[socket.socket]) -> None:
        for sock in (getattr(self.connection, "sock", None), *opening):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _send(self, email_message: Any) -> bool:
        last: _Tracked | None = self.connection  # type: ignore[assignment] # one of ours
        self._last = last
        if last is not None:
            last.handed_over, last.answer = False, None
        return super()._send(email_message)  # type: ignore[misc] # Django's, not in the stubs

    @property
    def may_have_gone(self) -> bool:
        """The server was handed the last message and did not refuse it (4xx, 5xx)."""
        last = self._last
        if last is None or not last.handed_over:
            return False
        return last.answer is None or not 400 <= last.answer <= 599

    @property
    def accepted(self) -> bool:
        """The server said it took the last message (whatever went wrong afterwards)."""
        return self._last is not None and self._last.answer == 250


def _connection() -> Any:
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
        return SMTPBackend(timeout=settings.EMAIL_TIMEOUT)
    return get_connection(timeout=settings.EMAIL_TIMEOUT)


def queue(*, to: str, subject: str, body: str) -> OutgoingEmail:
    """Queue a message; call inside the transaction that decides to send it."""
    return OutgoingEmail.objects.create(to=to, subject=subject[:255], body=body)


def retry_wait(attempts: int) -> timedelta:
    """How long a message waits after its `attempts`-th failed attempt: 1, 2, 4 ... minutes,
    at most LONGEST_WAIT."""
    return min(FIRST_WAIT * 2 ** min(attempts - 1, 30), LONGEST_WAIT)


def _give_up_at(message: OutgoingEmail) -> datetime:
    """When a message the server cannot have had stops being retried (ADR 0038)."""
    return message.created_at + timedelta(hours=settings.OUTBOX_GIVE_UP_HOURS)


def _claim(tried: set[int], only: list[int] | None = None) -> OutgoingEmail | None:
    """The next message due (not one already tried in this run), marked as being sent in
    its own short transaction, so that two senders never take the same message."""
    with transaction.atomic():
        message = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(
                status=OutboxStatus.PENDING,
                next_attempt_at__lte=timezone.now(),
                **({"pk__in": only} if only is not None else {}),
            )
            .exclude(pk__in=tried)
            .order_by("next_attempt_at", "id")
            .first()
        )
        if message is None:
            return None
        message.status = OutboxStatus.SENDING
        message.claimed_at = timezone.now()
        message.attempts += 1
        message.save(update_fields=["status", "claimed_at", "attempts"])
    return message


def _finish(message: OutgoingEmail, error: Exception | None, *, may_have_gone: bool) -> str:
    """Record how sending went; returns the count it goes in (sent, retrying, failed,
    unknown)."""
    now = timezone.now()
    if error is None:
        message.status, message.sent_at, message.last_error = OutboxStatus.SENT, now, ""
        counted = "sent"
    elif may_have_gone:
        message.status, counted = OutboxStatus.UNKNOWN, "unknown"
        logger.error("Outbox message %s may have been sent: never retried", message.pk)
    elif now >= _give_up_at(message):
        message.status, counted = OutboxStatus.FAILED, "failed"
        logger.error("Outbox message %s given up after %s attempts", message.pk, message.attempts)
    else:
        # The last wait ends at the give-up time, so a relay back before then is tried.
        message.status, counted = OutboxStatus.PENDING, "retrying"
        message.next_attempt_at = min(now + retry_wait(message.attempts), _give_up_at(message))
    if error is not None:
        message.last_error = f"{type(error).__name__}: {error}"[:500]
    message.save(update_fields=["status", "sent_at", "last_error", "next_attempt_at"])
    return counted


def _in_a_transaction() -> bool:
    """Whether the caller holds a transaction (the test runner's own does not count)."""
    blocks = transaction.get_connection().atomic_blocks
    return any(not getattr(block, "_from_testcase", False) for block in blocks)


def send_pending(*, limit: int = 1000, only: list[int] | None = None) -> dict[str, int]:
    """Send what is waiting and due, each message on its own; returns how many were sent,
    failed and will be retried (retrying), were given up (failed) or may have gone (unknown,
    never retried). `only`: just these messages (a page sending the invitation it has just
    queued; what fails waits for a later `send_outbox` run).

    Runs outside any transaction (never inside one that holds an audit chain).
    """
    if _in_a_transaction():
        raise RuntimeError("send_pending sends mail: call it after the transaction commits")
    # Messages interrupted mid-send are found by the scheduled runs only, which count them
    # (and so exit 1 for the alert); a page sending what it has just queued reports on that
    # only (found by a review: swept by a page, they reached no job's exit code).
    interrupted = 0
    if only is None:
        interrupted = OutgoingEmail.objects.filter(
            status=OutboxStatus.SENDING, claimed_at__lt=timezone.now() - INTERRUPTED_AFTER
        ).update(status=OutboxStatus.UNKNOWN, last_error="Interrupted while sending")
    if interrupted:
        logger.error("%s outbox messages interrupted while sending: never retried", interrupted)
    counts = {"sent": 0, "retrying": 0, "failed": 0, "unknown": interrupted}
    tried: set[int] = set()
    connection = _connection()
    while len(tried) < limit:
        message = _claim(tried, only)
        if message is None:
            break
        tried.add(message.pk)
        try:
            send_mail(
                subject=message.subject,
                message=message.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[message.to],
                connection=connection,
            )
        except Exception as error:  # noqa: BLE001 - one failure never stops the rest
            if getattr(connection, "accepted", False):  # the server took it; QUIT failed
                counts[_finish(message, None, may_have_gone=False)] += 1
            else:
                may_have_gone = getattr(connection, "may_have_gone", False)
                counts[_finish(message, error, may_have_gone=may_have_gone)] += 1
            connection = _connection()  # a fresh one
        else:
            counts[_finish(message, None, may_have_gone=False)] += 1
    return counts


def lost_this_run(counts: dict[str, int]) -> str | None:
    """What a scheduled job that sent mail says when it gave up a message or may have sent
    one (each already logged at ERROR): the job fails, so the scheduler's alert fires."""
    if not counts["failed"] and not counts["unknown"]:
        return None
    return (
        f"Outbox: {counts['failed']} message(s) given up (failed), {counts['unknown']} may"
        " have been sent (unknown, never retried): see `manage.py outbox_report`"
    )


def needing_attention(*, since: datetime | None = None) -> QuerySet[OutgoingEmail]:
    """Failed and unknown messages no operator has acknowledged, oldest first; `since`: only
    those last tried since then."""
    found = OutgoingEmail.objects.filter(
        status__in=[OutboxStatus.FAILED, OutboxStatus.UNKNOWN], acknowledged_at__isnull=True
    )
    if since is not None:
        found = found.filter(claimed_at__gte=since)
    return found.order_by("id")


def waiting_since(moment: datetime) -> QuerySet[OutgoingEmail]:
    """Messages still waiting to go that were queued before `moment`, oldest first: the mail
    relay has been failing, or the sending job is not running."""
    return OutgoingEmail.objects.filter(
        status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING], created_at__lt=moment
    ).order_by("id")


def acknowledge(ids: list[int] | None) -> int:
    """Mark failed and unknown messages as seen to (`ids`, or all of them when None): they
    no longer make `outbox_report` fail. Returns how many were marked."""
    found = needing_attention()
    if ids is not None:
        found = found.filter(pk__in=ids)
    return found.update(acknowledged_at=timezone.now())
