from collections import Counter
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dsr.core.verify import Problem, verify

SHOWN_OF_A_KIND = 10  # problems of one kind in one chain written out; the rest counted


def said_briefly(problems: list[Problem]) -> list[str]:
    """Each problem, but only the first few of one kind in one chain, then how many more:
    a key missing from a server named each of 400,000 events, 30 MB for an alert (an
    operator's review). Then each kind found, with its count."""
    lines, shown, kinds = [], Counter[tuple[str, str]](), Counter[str]()
    for problem in problems:
        shown[problem.chain, problem.kind] += 1
        kinds[problem.kind] += 1
        if shown[problem.chain, problem.kind] <= SHOWN_OF_A_KIND:
            lines.append(str(problem))
    for (chain, kind), count in shown.items():
        if count > SHOWN_OF_A_KIND:
            lines.append(f"{chain}: {count - SHOWN_OF_A_KIND} more events: {kind}")
    if len(problems) > 1:
        lines += [f"{count} x {kind}" for kind, count in kinds.most_common()]
    return lines


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
        parser.add_argument(
            "--without-checkpoints",
            action="store_true",
            help="do not fail for want of checkpoints (a new install); any found are still held",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        path = Path(options["checkpoints"])
        # The file checkpoint_audit writes to must be keeping up; an archived one is not.
        current = path.resolve() == Path(settings.AUDIT_CHECKPOINT_FILE).resolve()
        keeping_up = current and not options["without_checkpoints"]
        minutes = settings.AUDIT_CHECKPOINT_MAX_LAG_MINUTES
        lag = timedelta(minutes=minutes) if keeping_up else None
        try:
            report = verify(path, lag=lag)
        except OSError as error:  # the checkpoint file: a folder, unreadable, on a lost mount
            raise CommandError(
                f"Cannot read the checkpoint file {path}: {error.strerror}"
            ) from error
        for line in said_briefly(report.problems or []):
            self.stderr.write(line)
        read, chains = report.events_read, report.chains
        if not report.intact:
            raise CommandError(
                f"Audit trail not intact: {len(report.problems or [])} problem(s) in "
                f"{chains} chains, {read} events read"
            )
        if not report.checkpoints and read and not options["without_checkpoints"]:
            # Without checkpoints a tail cut, with its chain's head put back as an earlier
            # append sealed it, leaves a shorter trail that is whole: nothing to see.
            where = "checkpoints in" if report.checkpoint_file else "checkpoint file at"
            raise CommandError(
                f"No {where} {options['checkpoints']}: the trail's {read} events "
                "could not be held to any checkpoint, so events deleted from the end of a chain "
                "would not show. Run checkpoint_audit (housekeeping does, every 5 minutes) and "
                "point AUDIT_CHECKPOINT_FILE or --checkpoints at its file, or pass "
                "--without-checkpoints to check the trail alone."
            )
        held = (
            f", held to {report.checkpoints} checkpoints in {report.checkpoint_file}"
            if report.checkpoints
            else ", without checkpoints"
        )
        newer = (
            f" ({report.not_checkpointed} chains newer than the last checkpoint)"
            if report.checkpoints and report.not_checkpointed
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(f"Audit trail intact: {read} events in {chains} chains verified")
            + held
            + newer
        )
