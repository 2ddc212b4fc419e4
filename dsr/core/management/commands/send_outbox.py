from django.core.management.base import BaseCommand

from dsr.core.outbox import send_pending


class Command(BaseCommand):
    help = "Send the mail waiting in the outbox (send_reminders also does, after queueing)."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        counts = send_pending()
        self.stdout.write(
            f"Sent {counts['sent']}, failed {counts['failed']} (retried up to three times),"
            f" unknown {counts['unknown']} (the mail server may have had them: never retried)."
        )
