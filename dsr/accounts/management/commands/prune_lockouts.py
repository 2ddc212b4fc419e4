"""Forget old sign-in attempts: django-axes keeps a row per failure and per sign-in. Kept
for LOCKOUT_RECORDS_DAYS (default 90) for an investigation; the audit trail keeps every
sign-in event for good, so nothing is lost."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone


class Command(BaseCommand):
    help = "Delete django-axes lockout and sign-in records older than LOCKOUT_RECORDS_DAYS."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--days", type=int, default=settings.LOCKOUT_RECORDS_DAYS)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        before = timezone.now() - timedelta(days=options["days"])
        # A lockout still running (within the cool-off) is never forgotten early.
        cooled = timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
        removed = {
            "attempts": AccessAttempt.objects.filter(attempt_time__lt=min(before, cooled)).delete()[
                0
            ],
            "failures": AccessFailureLog.objects.filter(attempt_time__lt=before).delete()[0],
            "sign-ins": AccessLog.objects.filter(attempt_time__lt=before).delete()[0],
        }
        self.stdout.write(", ".join(f"{n} {what}" for what, n in removed.items()) + " removed")
