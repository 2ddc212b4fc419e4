"""Shared models: the audit trail and the base for editable care records."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class StaleVersion(Exception):
    """Someone else saved the record after this user loaded it."""


class Versioned(models.Model):
    """An editable care record: optimistic version check, never hard-deleted."""

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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


class AuditAction(models.TextChoices):
    VIEWED = "viewed", "Viewed"
    SEARCHED = "searched", "Searched"
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    CLOSED = "closed", "Closed"
    EXPORTED = "exported", "Exported"
    DENIED = "denied", "Denied"
    SIGNED_IN = "signed_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGNED_OUT = "signed_out", "Signed out"
    LOCKED_OUT = "locked_out", "Locked out"
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled", "Second factor enrolled"
    EMAILED = "emailed", "Emailed"


class AuditEvent(models.Model):
    """Append-only, hash-chained record of every read and write of care data.

    `prev_hash` is unique, so two events can never claim the same predecessor:
    the chain cannot fork, even under concurrent writers (ADR 0004).
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    # Plain ids, not foreign keys: core depends on no app, and an audit row
    # must never constrain (or be cascaded by) the data it describes.
    place_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    person_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, unique=True)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["person_id", "-id"], name="audit_person_idx"),
            models.Index(fields=["place_id", "-id"], name="audit_place_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None:
            raise TypeError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise TypeError("Audit events are append-only")
