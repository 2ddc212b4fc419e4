from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from dsr.core.verify import write_checkpoint


class Command(BaseCommand):
    help = (
        "Append each audit chain's head (chain, length, last hash, time) to a file outside the "
        "database (AUDIT_CHECKPOINT_FILE). Safe to run on any schedule."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--file", default=settings.AUDIT_CHECKPOINT_FILE)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        points = write_checkpoint(Path(options["file"]))
        self.stdout.write(f"{len(points)} chain heads written to {options['file']}")
