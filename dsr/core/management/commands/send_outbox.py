from django.core.management.base import BaseCommand, CommandError

from dsr.core.outbox import lost_this_run, send_pending


class Command(BaseCommand):
    help = (
        "Send the mail waiting in the outbox (send_reminders also does, after queueing). "
        "Fails (exit 1) when it gave up a message or may have sent one, after trying the rest."
    )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        counts = send_pending()
        self.stdout.write(
            f"Sent {counts['sent']}, to be retried {counts['retrying']}, given up"
            f" {counts['failed']}, unknown {counts['unknown']} (the mail server may have had"
            " them: never retried)."
        )
        lost = lost_this_run(counts)
        if lost:
            raise CommandError(lost)
