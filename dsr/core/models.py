"""Shared models: the audit trail, and the bases every care record is built on.

Care data is never deleted and dated decisions are never changed (ADR 0005, ADR 0012):
- `Versioned`: an editable record with an optimistic version check; no delete.
- `Immutable`: a dated decision or fact; no change, no delete.
Their querysets refuse the bulk paths too (`.delete()`, and `.update()` for immutables),
and on PostgreSQL triggers refuse the same in the database (`immutable_triggers()`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, Self

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

from dsr.core.compiled import ShapedQuerySet
from dsr.core.guards import Guard


class StaleVersion(Exception):
    """Someone else saved the record after this user loaded it."""


class ReadRecorder(Protocol):
    """What records a read when a door's rows are fetched (core/door.py `Read`)."""

    def record(self, rows: Sequence[Any]) -> None: ...


class CareQuerySet(ShapedQuerySet):
    """A queryset of care records: never deleted in bulk; reads through a door are audited;
    its SQL written once a shape (core/compiled.py, ADR 0029).

    A door (core/door.py) hands out querysets carrying a `Read`: when such a queryset's rows
    are fetched, the read is recorded in the audit trail. Querysets made by services
    (`Model.objects`) carry none.
    """

    _read: ReadRecorder | None = None

    def _clone(self) -> Self:
        clone = super()._clone()  # type: ignore[misc]
        clone._read = self._read
        return clone

    def audited(self, read: ReadRecorder) -> Self:
        clone = self._chain()  # type: ignore[attr-defined]
        clone._read = read
        return clone  # type: ignore[no-any-return]

    def _fetch_all(self) -> None:
        fresh = self._result_cache is None  # type: ignore[attr-defined]
        super()._fetch_all()  # type: ignore[misc]
        if fresh and self._read is not None:
            self._read.record(self._result_cache)  # type: ignore[attr-defined,arg-type]

    def iterator(self, chunk_size: int | None = None) -> Any:
        if self._read is not None:
            raise TypeError("Audited reads are fetched whole: iterate the queryset itself")
        return super().iterator(chunk_size)

    def delete(self) -> Any:
        raise TypeError(f"{self.model.__name__} is care data and is never deleted")

    delete.queryset_only = True  # type: ignore[attr-defined]


class ImmutableQuerySet(CareQuerySet):
    """Dated decisions and facts: written once, never changed in bulk either."""

    def update(self, **kwargs: Any) -> int:
        raise TypeError(f"{self.model.__name__} is a dated record and is never changed")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise TypeError(f"{self.model.__name__} is a dated record and is never changed")


_LABELS: dict[Any, dict[Any, Any]] = {}


class Labelled(models.Model):
    """`get_<field>_display()` looked up in a table made once a field. Django's own builds
    a dict of the field's choices at every call, and a register page calls it dozens of
    times (ADR 0029); the label given is the same (tests/core/test_compiled.py)."""

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field: Any) -> Any:
        labels = _LABELS.get(field)
        if labels is None:
            labels = _LABELS[field] = dict(make_hashable(field.flatchoices))
        value = getattr(self, field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)


class Versioned(Labelled):
    """An editable care record: optimistic version check, never hard-deleted."""

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CareQuerySet.as_manager()

    class Meta:
        abstract = True

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise TypeError(
            f"{type(self).__name__} is care data and is never deleted; close it instead"
        )

    def save_if_current(self, expected_version: int, **values: Any) -> None:
        """Write `values` only if nobody has saved since `expected_version` was read (ADR 0005).

        Raises StaleVersion, leaving the newer data as they are.
        """
        updated = (
            type(self)
            ._default_manager.filter(pk=self.pk, version=expected_version)
            .update(**values, version=models.F("version") + 1, updated_at=timezone.now())
        )
        if updated != 1:
            raise StaleVersion()
        self.refresh_from_db()


class Immutable(Labelled):
    """A dated decision or fact: written once, never changed or deleted."""

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None and not self._state.adding:
            raise TypeError(f"{type(self).__name__} is a dated record and is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise TypeError(f"{type(self).__name__} is care data and is never deleted")


class Refuse(pgtrigger.Trigger):
    """A PostgreSQL trigger that refuses an operation on a table (django-pgtrigger, ADR 0012).

    Row level for UPDATE and DELETE (optionally only when `condition` holds); statement
    level for TRUNCATE, which row triggers do not see.
    """

    when = pgtrigger.Before
    func = (
        "RAISE EXCEPTION 'dsr: % on % refused: care data is kept as written', "
        "TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';"
    )


class GuardedRefuse(Guard, Refuse):
    """A refusal only when `condition` holds, of an operation the application's role is
    granted: no session setting can switch it off (core/guards.py)."""


def refuse(name: str, *operations: pgtrigger.Operation, **kwargs: Any) -> Refuse:
    operation = operations[0]
    for more in operations[1:]:
        operation = operation | more
    kind = GuardedRefuse if kwargs.get("condition") is not None else Refuse
    return kind(name=name, operation=operation, **kwargs)


def _no_truncate(prefix: str) -> Refuse:
    return refuse(f"{prefix}_no_truncate", pgtrigger.Truncate, level=pgtrigger.Statement)


def immutable_triggers(prefix: str) -> list[pgtrigger.Trigger]:
    """Rows are never updated or deleted, and the table is never truncated."""
    return [
        refuse(f"{prefix}_no_update_delete", pgtrigger.Update, pgtrigger.Delete),
        _no_truncate(prefix),
    ]


def undeletable_triggers(prefix: str) -> list[pgtrigger.Trigger]:
    """Rows may be updated (versioned edits) but never deleted or truncated."""
    return [refuse(f"{prefix}_no_delete", pgtrigger.Delete), _no_truncate(prefix)]


def one_of(field: str, choices: Iterable[Any], *, name: str, blank: bool = False) -> Any:
    """A CheckConstraint: `field` holds one of `choices` (and '' if `blank`)."""
    values = [c[0] if isinstance(c, tuple | list) else c for c in choices]
    allowed = [*values, ""] if blank else values
    return models.CheckConstraint(condition=models.Q(**{f"{field}__in": allowed}), name=name)


class AuditAction(models.TextChoices):
    VIEWED = "viewed", "Viewed"
    LISTED = "listed", "Listed"
    SEARCHED = "searched", "Searched"
    CHECKED = "checked", "Checked for duplicates"
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    CLOSED = "closed", "Closed"
    EXPORTED = "exported", "Exported"
    DENIED = "denied", "Denied"
    SIGNED_IN = "signed_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGNED_OUT = "signed_out", "Signed out"
    LOCKED_OUT = "locked_out", "Locked out"
    SIGN_IN_UNLOCKED = "sign_in_unlocked", "Sign-in unlocked"
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled", "Second factor enrolled"
    EMAILED = "emailed", "Emailed"
    KEY_ROTATED = "key_rotated", "Audit key rotated"
    HEAD_UNSEALED = "head_unsealed", "Audit chain found without its seal"
    REFUSED = "refused", "Refused"
    INVITED = "invited", "Invited"
    PASSWORD_SET = "password_set", "Password set"
    SECOND_FACTOR_RESET = "second_factor_reset", "Second factor reset"
    DEACTIVATED = "deactivated", "Account deactivated"
    REACTIVATED = "reactivated", "Account reactivated"


# Sign-in refusals: the system chain's events an attacker can cause without an account
# (places/audit_views.py searches them; audit_refusals_idx indexes them).
REFUSALS_OF_SIGN_IN = (AuditAction.SIGN_IN_FAILED, AuditAction.LOCKED_OUT)


class AuditChain(models.Model):
    """The head of one chain of the audit trail (ADR 0014).

    Each place has its own chain, so writers in different places never queue on one lock;
    events with no place (sign-ins, jobs) form the system chain. Appending locks this row.
    `seal` is a keyed hash of the head, so the head cannot be wound back — the tail of the
    chain deleted — without the key, which lives outside the database.
    """

    key = models.CharField(max_length=32, unique=True)  # "place:12", "system", "legacy"
    length = models.BigIntegerField(default=0)
    head = models.CharField(max_length=64)
    key_id = models.CharField(max_length=32, blank=True)  # the key that signed the head
    seal = models.CharField(max_length=64, blank=True)

    class Meta:
        triggers = [
            *undeletable_triggers("audit_chain"),
            # A chain only grows.
            refuse(
                "audit_chain_only_grows",
                pgtrigger.Update,
                condition=pgtrigger.Q(new__length__lte=pgtrigger.F("old__length")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.length} events"


# The moments an audit event may carry (audit_at_a_real_moment).
AUDIT_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
AUDIT_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


UNREADABLE = "unreadable"  # the key of what TrailJSONField reads where JSON cannot be read


class TrailJSONField(models.JSONField):
    """An event's details, read back as written; or, where what the database holds cannot
    be read (nested deeper than Python's JSON reader goes, a number too long for it: written
    in the database by hand, as no append does), a note saying so, in place of the details.
    The event's hash then names it as changed, and every page and check that reads it goes
    on: the raw value stopped verify_audit and the pages of who has seen a record (found by
    an attack on step 5)."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        try:
            return super().from_db_value(value, expression, connection)
        except (RecursionError, ValueError) as error:
            return {UNREADABLE: type(error).__name__}


class AuditEvent(models.Model):
    """Append-only record of every read and write of care data, in keyed hash chains.

    An event is the `seq`-th of its `chain`; its `hash` is a keyed hash (HMAC, key
    `key_id`) of its content, its place in the chain and its predecessor's hash (ADR 0014).
    """

    # Indexes cost every audited request a write each (ADR 0033): only those a page or
    # verify_audit reads by are kept. `at` is read by no query; an actor's events are found
    # through audit_actor_idx, which leads with the actor.
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    actor_label = models.CharField(max_length=254, blank=True)
    # Plain ids, not foreign keys: core depends on no app, and an audit row
    # must never constrain (or be cascaded by) the data it describes.
    place_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    person_id = models.BigIntegerField(null=True, blank=True)
    changes = TrailJSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    chain = models.CharField(max_length=32, default="legacy")
    seq = models.BigIntegerField(default=0)
    key_id = models.CharField(max_length=32, blank=True)
    prev_hash = models.CharField(max_length=64)
    # Not unique, not indexed: a keyed hash covers its chain and position, which
    # audit_one_event_per_position keeps unique; nothing looks an event up by its hash.
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["person_id", "-id"], name="audit_person_idx"),
            models.Index(fields=["place_id", "-id"], name="audit_place_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
            # Sign-in events of a place's users, for its auditors (places/audit_views.py).
            models.Index(
                fields=["actor_label", "-id"],
                condition=models.Q(chain="system"),
                name="audit_system_actor_idx",
            ),
            # Sign-in refusals naming no account, searched by every auditor: without it the
            # search read every sign-in event of the country to find them (ADR 0040).
            models.Index(
                fields=["-id"],
                condition=models.Q(
                    chain="system", action__in=REFUSALS_OF_SIGN_IN, actor__isnull=True
                ),
                name="audit_refusals_idx",
            ),
        ]
        constraints = [
            # One event per position: two writers cannot both extend a chain from one head.
            # (Events from before the chains were split all sit in "legacy", in id order.)
            models.UniqueConstraint(
                fields=["chain", "seq"],
                condition=~models.Q(chain="legacy"),
                name="audit_one_event_per_position",
            ),
            # Positions start at 1 (verify_audit also names any row before that).
            models.CheckConstraint(
                condition=models.Q(seq__gte=1) | models.Q(chain="legacy"),
                name="audit_positions_start_at_one",
            ),
            # A real moment: 'infinity', which PostgreSQL takes and Python cannot read,
            # stopped verify_audit and a person's access log with one row (found by a review).
            models.CheckConstraint(
                condition=models.Q(at__gte=AUDIT_EARLIEST, at__lt=AUDIT_LATEST),
                name="audit_at_a_real_moment",
            ),
        ]
        triggers = immutable_triggers("audit")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise TypeError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise TypeError("Audit events are append-only")


class AuditShown(models.Model):
    """Which people a `listed` event showed: so "who has accessed this record" includes
    every list, search and work page a person appeared on, not only their own page.

    Written with its event in the same transaction; the ids are also in the event's
    hashed content (`changes["shown"]`), which `verify_audit` holds them against.
    """

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="shown")
    person_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["person_id", "-event"], name="audit_shown_person_idx")]
        triggers = immutable_triggers("audit_shown")

    def __str__(self) -> str:
        return f"event {self.event_id} showed person {self.person_id}"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Interrupted while sending: may have been sent"


class OutgoingEmail(models.Model):
    """An email to send: written in the transaction that decides to send it, sent after
    commit by `core.outbox.send_pending` (ADR 0014). No transaction holding an audit chain
    ever waits on a mail server; one failure never stops the rest; a message whose sending
    was interrupted is never sent again automatically (it may have gone). A message the
    server cannot have had waits until `next_attempt_at`, each wait longer, and is given up
    (failed) OUTBOX_GIVE_UP_HOURS after it was queued (ADR 0038)."""

    to = models.EmailField()
    subject = models.CharField(max_length=255)
    body = models.TextField()
    status = models.CharField(
        max_length=8, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When a pending message is next due: when queued, then after each failed try's wait.
    # A database default too: a server still on the code before this column (a rolling
    # deploy) queues mail without it (found by a review).
    next_attempt_at = models.DateTimeField(default=timezone.now, db_default=Now())
    # Failed or unknown: when an operator said they had seen to it (`outbox_report`).
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The sender's query: the pending messages now due, soonest first (`status` leads,
        # as a parameter: a partial index is no use to a prepared statement's generic plan).
        indexes = [models.Index(fields=["status", "next_attempt_at", "id"], name="outbox_due_idx")]
        constraints = [one_of("status", OutboxStatus.choices, name="outbox_status_valid")]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to} ({self.status})"


class RateCounter(models.Model):
    """A counter with an expiry: what the rate limits of the public pages count in
    (core/counters.py). In the database, so every app server counts the same requests."""

    key = models.CharField(max_length=250, primary_key=True)
    value = models.BigIntegerField()
    expires = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"


class Submission(models.Model):
    """A form sent once (core/once.py): its page's one-time token, taken in the transaction
    that did what the form asked, so the same form sent again (a double click, a browser's
    resend) finds it taken and does nothing. No care data; forgotten after a week
    (`prune_submissions`, in housekeeping)."""

    token = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.token
