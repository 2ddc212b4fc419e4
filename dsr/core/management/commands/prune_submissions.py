from __future__ import annotations

from django.core.management.base import BaseCommand

from dsr.core import once


class Command(BaseCommand):
    help = f"Forget the one-time tokens of forms sent more than {once.KEPT_DAYS} days ago."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        self.stdout.write(f"{once.forget_old()} form tokens forgotten")
