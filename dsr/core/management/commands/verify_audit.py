from django.core.management.base import BaseCommand, CommandError

from dsr.core.audit import verify_chain


class Command(BaseCommand):
    help = "Re-derive every audit event's hash and check the chain is unbroken."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        checked, problem = verify_chain()
        if problem is not None:
            raise CommandError(
                f"Audit chain broken at event {problem.event_id}: {problem.problem} "
                f"({checked} events before it are intact)"
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {checked} events verified"))
