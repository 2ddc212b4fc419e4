from django.core.management.base import BaseCommand, CommandError

from dsr.core import outbox
from dsr.work.reminders import send_reminders


class Command(BaseCommand):
    help = (
        "Email each user a daily digest of newly due and overdue work (safe to run often). "
        "Fails (exit 1) when the outbox gave up a message or may have sent one."
    )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        sent, counts = send_reminders()
        self.stdout.write(f"Sent {sent} digest(s).")
        lost = outbox.lost_this_run(counts)
        if lost:
            raise CommandError(lost)
