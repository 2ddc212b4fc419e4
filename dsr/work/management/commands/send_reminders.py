from django.core.management.base import BaseCommand

from dsr.work.reminders import send_reminders


class Command(BaseCommand):
    help = "Email each user a daily digest of newly due and overdue work (safe to run often)."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        sent = send_reminders()
        self.stdout.write(f"Sent {sent} digest(s).")
