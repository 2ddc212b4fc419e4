from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dsr.core.verify import verify


class Command(BaseCommand):
    help = (
        "Re-derive every audit event's keyed hash, chain by chain, and hold each chain to its "
        "sealed head and to every checkpoint written outside the database."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--checkpoints",
            default=settings.AUDIT_CHECKPOINT_FILE,
            help="the checkpoint file to hold the trail to (an archived one, after rotating)",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        report = verify(Path(options["checkpoints"]))
        if not report.intact:
            for problem in report.problems or []:
                self.stderr.write(str(problem))
            raise CommandError(
                f"Audit trail not intact: {len(report.problems or [])} problem(s) in "
                f"{report.chains} chains, {report.events_read} events read"
            )
        read, chains = report.events_read, report.chains
        self.stdout.write(
            self.style.SUCCESS(f"Audit trail intact: {read} events in {chains} chains verified")
        )
