from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dsr.core.models import AuditChain
from dsr.core.verify import CheckpointFileError, write_checkpoint


class Command(BaseCommand):
    help = (
        "Append the head (chain, length, last hash, time) of each audit chain that has moved "
        "since the last checkpoint to a file outside the database (AUDIT_CHECKPOINT_FILE). "
        "Safe to run on any schedule."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--file", default=settings.AUDIT_CHECKPOINT_FILE)
        parser.add_argument(
            "--all",
            action="store_true",
            help="write every chain's head, moved or not (a new file does this by itself)",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            points = write_checkpoint(Path(options["file"]), every=options["all"])
        except CheckpointFileError as error:
            raise CommandError(str(error)) from error
        chains = AuditChain.objects.count()
        self.stdout.write(
            f"{len(points)} chain heads written to {options['file']}"
            f" ({max(chains - len(points), 0)} unchanged since its last checkpoint)"
        )
