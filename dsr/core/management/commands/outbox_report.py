"""The mail that did not go: messages given up (failed) or that may have gone (unknown), and
messages waiting for hours, for an operator to see to (ADR 0038). A monitor runs it and
alerts on a non-zero exit. It never shows a message's body."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dsr.core import outbox

COLUMNS = "id\tstatus\tqueued\tlast tried\tattempts\tto\tsubject\tlast error"


def _when(moment: datetime | None) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "-"


def _one_line(text: str) -> str:
    return " ".join(text.split())  # a server's error may span lines


def _row(message: Any) -> str:
    return (
        f"{message.pk}\t{message.status}\t{_when(message.created_at)}\t{_when(message.claimed_at)}"
        f"\t{message.attempts}\t{message.to}\t{_one_line(message.subject)}"
        f"\t{_one_line(message.last_error)}"
    )


class Command(BaseCommand):
    help = (
        "List outbox messages given up (failed) or that may have been sent (unknown) that no "
        "one has acknowledged, and messages waiting longer than --late-hours; exit 1 if any "
        "of the first was last tried within --days, or any is that late. Never the body."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--days",
            type=float,
            default=7,
            help="fail on unacknowledged messages last tried within this many days (7)",
        )
        parser.add_argument(
            "--late-hours",
            type=float,
            default=2,
            help="fail on messages still waiting this long after being queued (2; 0: never)",
        )
        parser.add_argument(
            "--acknowledge",
            type=int,
            nargs="+",
            metavar="ID",
            help="mark these failed or unknown messages as seen to: they no longer make it fail",
        )
        parser.add_argument(
            "--acknowledge-all", action="store_true", help="mark every one listed as seen to"
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["acknowledge"] or options["acknowledge_all"]:
            ids = None if options["acknowledge_all"] else options["acknowledge"]
            marked = outbox.acknowledge(ids)
            self.stdout.write(f"Acknowledged {marked} message(s).")
            if ids is not None and marked < len(set(ids)):
                self.stderr.write("Some were not failed or unknown, or already acknowledged.")
        now = timezone.now()
        unseen = list(outbox.needing_attention())
        recent = outbox.needing_attention(since=now - timedelta(days=options["days"])).count()
        hours = options["late_hours"]
        late = list(outbox.waiting_since(now - timedelta(hours=hours))) if hours > 0 else []
        if unseen:
            self.stdout.write("Failed or unknown, not acknowledged:\n" + COLUMNS)
            for message in unseen:
                self.stdout.write(_row(message))
        if late:
            self.stdout.write(f"Still waiting {hours:g} hours after being queued:\n" + COLUMNS)
            for message in late:
                self.stdout.write(_row(message))
        summary = (
            f"{len(unseen)} failed or unknown message(s) not acknowledged ({recent} last tried"
            f" within {options['days']:g} days); {len(late)} waiting over {hours:g} hours"
        )
        if recent or late:
            raise CommandError(
                f"{summary}. See to them, then `outbox_report --acknowledge ID ...`"
                " (mail still waiting clears itself once it goes)"
            )
        self.stdout.write(summary + ".")
