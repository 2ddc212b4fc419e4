"""Mail goes through an outbox (ADR 0014): queued in the transaction that decides to send it,
sent after commit, one message at a time, outside any transaction.

So a mail server that accepts a connection and stays silent holds up nobody's page (no
audit chain is held while we wait on it; EMAIL_TIMEOUT bounds the wait), one failure never
stops the rest, and a message is never sent twice: a message whose sending was interrupted
(the process died mid-send) is marked "unknown" for an operator, not retried.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.utils import timezone

from dsr.core.models import OutboxStatus, OutgoingEmail

ATTEMPTS = 3
# A claimed message not finished within this long was interrupted mid-send.
INTERRUPTED_AFTER = timedelta(hours=1)


def queue(*, to: str, subject: str, body: str) -> OutgoingEmail:
    """Queue a message; call inside the transaction that decides to send it."""
    return OutgoingEmail.objects.create(to=to, subject=subject[:255], body=body)


def _claim(tried: set[int], only: list[int] | None = None) -> OutgoingEmail | None:
    """The next message to send (not one already tried in this run), marked as being sent
    in its own short transaction, so that two senders never take the same message."""
    with transaction.atomic():
        message = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(status=OutboxStatus.PENDING, **({"pk__in": only} if only is not None else {}))
            .exclude(pk__in=tried)
            .order_by("id")
            .first()
        )
        if message is None:
            return None
        message.status = OutboxStatus.SENDING
        message.claimed_at = timezone.now()
        message.attempts += 1
        message.save(update_fields=["status", "claimed_at", "attempts"])
    return message


def _finish(message: OutgoingEmail, error: Exception | None) -> None:
    if error is None:
        message.status, message.sent_at, message.last_error = OutboxStatus.SENT, timezone.now(), ""
    else:
        message.status = (
            OutboxStatus.PENDING if message.attempts < ATTEMPTS else OutboxStatus.FAILED
        )
        message.last_error = f"{type(error).__name__}: {error}"[:500]
    message.save(update_fields=["status", "sent_at", "last_error"])


def _in_a_transaction() -> bool:
    """Whether the caller holds a transaction (the test runner's own does not count)."""
    blocks = transaction.get_connection().atomic_blocks
    return any(not getattr(block, "_from_testcase", False) for block in blocks)


def send_pending(*, limit: int = 1000, only: list[int] | None = None) -> dict[str, int]:
    """Send what is waiting, each message on its own; returns how many were sent or failed.
    `only`: just these messages (a page sending the invitation it has just queued; what
    fails waits for the next `send_outbox` run).

    Runs outside any transaction (never inside one that holds an audit chain).
    """
    if _in_a_transaction():
        raise RuntimeError("send_pending sends mail: call it after the transaction commits")
    OutgoingEmail.objects.filter(
        status=OutboxStatus.SENDING, claimed_at__lt=timezone.now() - INTERRUPTED_AFTER
    ).update(status=OutboxStatus.UNKNOWN)
    counts = {"sent": 0, "failed": 0}
    tried: set[int] = set()
    connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
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
            _finish(message, error)
            counts["failed"] += 1
            connection = get_connection(timeout=settings.EMAIL_TIMEOUT)  # a fresh one
        else:
            _finish(message, None)
            counts["sent"] += 1
    return counts
