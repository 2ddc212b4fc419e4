import os

from django.core.management.base import BaseCommand

from dsr.core.verify import write_checkpoint
from dsr.demo import data


class Command(BaseCommand):
    help = "Load a fictional place with people of every age and a user for every role."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--people", type=int, default=60)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        place = data.load(people_count=options["people"])
        if place is None:
            self.stdout.write("Demo data already loaded.")
        else:
            self.stdout.write(self.style.SUCCESS(f"Loaded {data.DEMO_PLACE}."))
            # As housekeeping would within five minutes: verify_audit has a checkpoint to
            # hold the demo's trail to from the start.
            written = write_checkpoint()
            self.stdout.write(f"Audit trail checkpointed ({len(written)} chains).")
        port = os.environ.get("PORT") or "8000"
        self.stdout.write(
            f"\nSign in at http://127.0.0.1:{port}/ as any of these (all fictional):\n"
        )
        for email, _name, role, _title in data.USERS:
            self.stdout.write(f"  {role.label:<12} {email:<36} password: {data.DEMO_PASSWORD}")
        self.stdout.write("")
