"""The frequent jobs in one, each safe to run at any time and any number of times: expired
sessions, old lockout records, an audit checkpoint, mail waiting in the outbox (the
schedule is in docs/deploy.md). Reminders and verify_audit run on their own schedules.
Exits non-zero, after running every job, when any failed (the outbox's does when it gave up
a message or may have sent one), so the scheduler's alert fires."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

JOBS = ["clearsessions", "prune_lockouts", "prune_submissions", "checkpoint_audit", "send_outbox"]


class Command(BaseCommand):
    help = "Expired sessions, old lockout records, an audit checkpoint, the outbox: " + ", ".join(
        JOBS
    )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        failed = []
        for job in JOBS:
            try:
                call_command(job, stdout=self.stdout, stderr=self.stderr)
            except Exception as error:  # noqa: BLE001 - one job's failure never stops the rest
                failed.append(job)
                # A job's own CommandError says what went wrong in its words; any other
                # exception's message may carry data, so only its type is named.
                said = error if isinstance(error, CommandError) else type(error).__name__
                self.stderr.write(f"{job} failed: {said}")
        if failed:
            raise SystemExit(f"housekeeping: {', '.join(failed)} failed")
        self.stdout.write("housekeeping done")
