"""Proving the audit trail whole (ADR 0014): `manage.py verify_audit` and checkpoints.

Every chain is walked in order and each event's keyed hash re-derived; each chain's sealed
head must match what is there; each checkpoint written outside the database (`manage.py
checkpoint_audit`) must still hold. Every problem is named by its kind, so an auditor can
tell an edit from a deletion, a forgery or a truncation.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from dsr.core import chain
from dsr.core.models import AuditAction, AuditChain, AuditEvent, AuditShown

# What a problem can be, in the words verify_audit prints.
CHANGED = "changed after it was written"
RESIGNED = "re-hashed without the key (edited, inserted or forged)"
MISSING = "events deleted from the middle"
OUT_OF_ORDER = "does not follow the event before it (reordered, inserted or re-linked)"
UNKNOWN_KEY = "signed with a key this server does not hold"
MOVED = "filed in another place's chain"
TAIL_CUT = "its last events were deleted"
APPENDED = "events added after its sealed head"
HEAD_GONE = "its head row was deleted"
HEAD_EMPTIED = "events beyond its head, which says the chain is empty (wound back, or forged)"
HEAD_REWRITTEN = "its head was rewritten without the key"
FOUND_UNSEALED = "an append found its head rewritten without the key (tail cut or wound back)"
BEHIND_CHECKPOINT = "shorter than its checkpoint: events deleted since"
DIFFERS_FROM_CHECKPOINT = "rewritten since its checkpoint"
CHAIN_GONE = "missing, though checkpointed (truncated or deleted)"
SHOWN_ALTERED = "its list of people shown was altered"
BEFORE_START = "numbered before the chain's first event (inserted)"
REPEATED = "a second event at a position already taken (inserted)"
KEY_NOT_ROTATED = "signed with another key without a recorded rotation (or an older key)"
CHECKPOINT_UNREADABLE = "a checkpoint line cannot be read (torn, cut short or edited)"
NOT_CHECKPOINTED = "events in no checkpoint for too long (has checkpoint_audit stopped?)"
RETIRED_KEY = "signed with a key long after the trail recorded its rotation (a leaked old key?)"
BACKDATED = "dated well before a checkpoint that did not hold it (written later, dated back)"
CHECKPOINTS = "checkpoints"  # the chain a problem with the checkpoint file itself is filed under


@dataclass(frozen=True)
class Problem:
    chain: str
    kind: str
    event_id: int | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = f"event {self.event_id}" if self.event_id is not None else "chain"
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.chain}: {where}: {self.kind}{extra}"


@dataclass
class Report:
    events_read: int = 0
    chains: int = 0
    problems: list[Problem] | None = None
    checkpoint_file: Path | None = None  # the file read, None when there was none
    checkpoints: int = 0  # distinct checkpoints the chains were held to
    not_checkpointed: int = 0  # chains with events and no checkpoint yet (newer than the last)

    @property
    def intact(self) -> bool:
        return not self.problems


_BATCH = 2000  # events read a query


def _events(key: str) -> Iterator[AuditEvent]:
    """Every event filed in the chain, in order: from the lowest position there is, so a
    row numbered 0 or below (which no append writes) is read and named too."""
    order = "id" if key == chain.LEGACY else "seq"
    last: int | None = None
    while True:
        after = {} if last is None else {f"{order}__gt": last}
        events = AuditEvent.objects.filter(chain=key)
        rows = list(events.filter(**after).order_by(order, "id")[:_BATCH])
        if not rows:
            return
        if order == "seq" and len(rows) == _BATCH:
            # The rest of the last position: rows sharing it (a forgery, the unique index
            # dropped) would otherwise fall between this batch and the next, unread.
            rows += events.filter(seq=rows[-1].seq, id__gt=rows[-1].id).order_by("id")
        shown = _shown(rows)
        for row in rows:
            row._shown = shown[row.id]  # type: ignore[attr-defined]
            yield row
        last = getattr(rows[-1], order)


def _shown(rows: list[AuditEvent]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {row.id: set() for row in rows}
    pairs = AuditShown.objects.filter(event_id__in=list(found)).values_list("event_id", "person_id")
    for event_id, person_id in pairs:
        found[event_id].add(person_id)
    return found


def _keyless(event: AuditEvent) -> str:
    """What someone without the key would write: a plain SHA-256 of the signed content."""
    content = {
        **json.loads(json.dumps(chain._content(event), default=str)),
        "chain": event.chain,
        "seq": event.seq,
        "key_id": event.key_id,
    }
    return hashlib.sha256(chain._canonical(content)).hexdigest()


@dataclass(frozen=True)
class Held:
    """What the trail itself and the checkpoint file say of time, for the two checks that
    need it (ADR 0043). `retired`: each key's first recorded rotation to a later key, from
    rotation records signed with that later key; an event signed with the old key after
    that, plus `grace`, was signed by someone still holding a key the trail had moved on
    from. `runs`: the times of the checkpoint runs in the file, and `lengths` each chain's
    checkpointed lengths in the order they were written: an event is held by the first run
    `grace` after it, or was written after that run and dated back."""

    grace: timedelta
    retired: dict[str, datetime]
    runs: list[datetime]
    lengths: dict[str, tuple[list[datetime], list[int]]]

    def backdated(self, key: str, seq: int, at: datetime) -> bool:
        """Whether a run `grace` or more after `at` found the chain shorter than `seq`."""
        run = bisect.bisect_left(self.runs, _after(at, self.grace))
        if run == len(self.runs):
            return False  # no run that long after it yet
        times, longest = self.lengths.get(key, ([], []))
        written = bisect.bisect_right(times, self.runs[run])
        return (longest[written - 1] if written else 0) < seq


NOTHING_HELD = Held(timedelta(0), {}, [], {})


def _after(at: datetime, grace: timedelta) -> datetime:
    """`at` and the grace, or the end of the calendar: a row dated at its very end (its check
    dropped by the table's owner) is named by the walk, not a crash here (a review)."""
    try:
        return at + grace
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Walked:
    """What a walk of one chain found: how many events, the last one's position and hash,
    and when the first event after the checkpointed ones was written (None if none)."""

    count: int
    last_seq: int
    last_hash: str
    first_after: datetime | None


def _walk(
    key: str,
    signer: chain.Keys,
    problems: list[Problem],
    covered: int = 0,
    held: Held = NOTHING_HELD,
) -> Walked:
    """Check one chain's events in order."""
    first_after: datetime | None = None
    expected_prev = chain.GENESIS
    expected_seq = 1
    count = 0
    previous: AuditEvent | None = None
    order = list(signer.by_id)  # the keys in the order they came into use
    for event in _events(key):
        legacy = key == chain.LEGACY
        if not legacy and event.seq < 1:
            problems.append(Problem(key, BEFORE_START, event.id, f"#{event.seq}"))
            continue  # not part of the chain: the chain is checked as if it were not there
        count += 1
        if count == covered + 1:
            first_after = event.at
        before = previous.key_id if previous is not None and not legacy else event.key_id
        if event.key_id != before and not _rotated(before, event, order):
            problems.append(Problem(key, KEY_NOT_ROTATED, event.id, f"{before} to {event.key_id}"))
        if not legacy and event.seq < expected_seq:
            problems.append(Problem(key, REPEATED, event.id, f"#{event.seq}"))
        elif not legacy and event.seq != expected_seq:
            problems.append(Problem(key, MISSING, event.id, f"#{expected_seq} to #{event.seq - 1}"))
        if event.prev_hash != expected_prev:
            problems.append(Problem(key, OUT_OF_ORDER, event.id))
        if legacy:
            intact = chain.legacy_hash(event) == event.hash
        elif event.key_id not in signer.by_id:
            problems.append(Problem(key, UNKNOWN_KEY, event.id, event.key_id))
            intact = True
        else:
            intact = chain.signature(event, signer.by_id[event.key_id]) == event.hash
            if not chain.belongs(key, event.place_id):
                problems.append(Problem(key, MOVED, event.id))
            retired = held.retired.get(event.key_id)
            if retired is not None and event.at > _after(retired, held.grace):
                problems.append(Problem(key, RETIRED_KEY, event.id, _retired(event, retired)))
            if held.runs and held.backdated(key, event.seq, event.at):
                problems.append(Problem(key, BACKDATED, event.id, f"{event.at:%Y-%m-%d %H:%M}"))
        if not intact:
            keyless = not legacy and _keyless(event) == event.hash
            problems.append(Problem(key, RESIGNED if keyless else CHANGED, event.id))
        if not legacy and event.action == AuditAction.HEAD_UNSEALED:
            problems.append(Problem(key, FOUND_UNSEALED, event.id, _found(event)))
        if event._shown != _listed(event):  # type: ignore[attr-defined]
            problems.append(Problem(key, SHOWN_ALTERED, event.id))
        expected_prev = event.hash
        expected_seq = event.seq + 1
        previous = event
    if previous is None:
        return Walked(0, 0, chain.GENESIS, None)
    last_seq = count if key == chain.LEGACY else previous.seq
    return Walked(count, last_seq, previous.hash, first_after)


def _changes(event: AuditEvent) -> dict[str, Any]:
    """An event's details. Anything but an object (a row written by hand: null, a list)
    says nothing, and its hash names the row, rather than stopping the check."""
    return event.changes if isinstance(event.changes, dict) else {}


def _listed(event: AuditEvent) -> set[Any]:
    """The people an event says it showed."""
    shown = _changes(event).get("shown", [])
    try:
        return set(shown) if isinstance(shown, list) else {repr(shown)}
    except TypeError:  # a list of lists, say
        return {repr(shown)}


def _found(event: AuditEvent) -> str:
    changes = _changes(event)
    length, key_id = changes.get("length"), changes.get("key_id")
    return f"found at #{length}, key {key_id!r}, on {event.at:%Y-%m-%d %H:%M}"


def _retired(event: AuditEvent, retired: datetime) -> str:
    return f"{event.key_id}, on {event.at:%Y-%m-%d %H:%M}; rotated on {retired:%Y-%m-%d %H:%M}"


def _retirements(signer: chain.Keys) -> dict[str, datetime]:
    """When the trail first recorded each key's rotation to a later one. Only a record the
    later key signed counts: whoever holds the old key alone cannot move its retirement
    (a record it cannot sign is named by the walk of its chain)."""
    order = list(signer.by_id)
    retired: dict[str, datetime] = {}
    for event in AuditEvent.objects.filter(action=AuditAction.KEY_ROTATED).exclude(
        chain=chain.LEGACY
    ):
        before = _changes(event).get("from")
        if (
            isinstance(before, str)
            and event.key_id in signer.by_id
            and _rotated(before, event, order)
            and chain.signature(event, signer.by_id[event.key_id]) == event.hash
        ):
            retired[before] = min(event.at, retired.get(before, event.at))
    return retired


def _held(points: dict[str, dict[tuple[int, str], str]], signer: chain.Keys) -> Held:
    """What `_walk` holds each event to in time (read_checkpoints has checked every time
    in the file reads)."""
    lengths: dict[str, tuple[list[datetime], list[int]]] = {}
    runs: set[datetime] = set()
    for key, found in points.items():
        written = sorted((datetime.fromisoformat(at), length) for (length, _), at in found.items())
        times: list[datetime] = []
        longest: list[int] = []
        most = 0
        for at, length in written:
            most = max(most, length)
            times.append(at)
            longest.append(most)
        lengths[key] = (times, longest)
        runs.update(times)
    grace = timedelta(minutes=settings.AUDIT_CHECKPOINT_MAX_LAG_MINUTES)
    return Held(grace, _retirements(signer), sorted(runs), lengths)


def _rotated(before: str, event: AuditEvent, order: list[str]) -> bool:
    """Whether `event` moves its chain from key `before` to a later key, as append records
    a rotation: an event whose key is not its predecessor's must be that record, and keys
    only move forward (an old key, perhaps leaked, signs nothing after a rotation)."""
    later = before in order and event.key_id in order
    return (
        event.action == AuditAction.KEY_ROTATED
        and event.changes == {"from": before, "to": event.key_id}
        and later
        and order.index(event.key_id) > order.index(before)
    )


def _check_head(
    head: AuditChain | None, key: str, walked: Walked, signer: chain.Keys
) -> list[Problem]:
    """The chain's head row against the chain: sealed with our key, and naming its last
    event. Measured by position, not by count: events missing from the middle are named
    by the walk, not as a cut tail. A head that is not ours is named alone (what it says
    is not evidence of anything)."""
    if head is None:
        return [Problem(key, HEAD_GONE, None, f"{walked.count} events")] if walked.count else []
    end, detail = (
        walked.last_seq,
        f"the head says #{head.length}, the chain ends at #{walked.last_seq}",
    )
    if not head.length:
        return [Problem(key, HEAD_EMPTIED, None, detail)] if walked.count else []
    sealer = signer.by_id.get(head.key_id)
    if sealer is None:
        return [Problem(key, UNKNOWN_KEY, None, f"head sealed with {head.key_id}")]
    if chain.seal(head, sealer) != head.seal:
        return [Problem(key, HEAD_REWRITTEN, None, detail)]
    if end < head.length:
        return [Problem(key, TAIL_CUT, None, f"{head.length - end} missing")]
    if end > head.length:
        return [Problem(key, APPENDED, None, f"{end - head.length} after the head")]
    if walked.last_hash != head.head:
        return [Problem(key, CHANGED, None, "the last event is not the one its head names")]
    return []


def read_checkpoints(
    path: Path | None = None, problems: list[Problem] | None = None
) -> dict[str, dict[tuple[int, str], str]]:
    """Each distinct checkpoint, by chain: (length, head) to the time it was first written.
    The file is read a line at a time (it grows for as long as the trail does). A line that
    cannot be read is named in `problems` (when given) and the rest are still read: one torn
    line must not hide the others."""
    path = path or Path(settings.AUDIT_CHECKPOINT_FILE)
    found: dict[str, dict[tuple[int, str], str]] = {}
    if not path.exists():
        return found
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                point = json.loads(line)
                key, at = str(point["chain"]), str(point["at"])
                length, head = point["length"], str(point["head"])
                if type(length) is not int:  # as write_checkpoint wrote it, or not at all
                    raise TypeError(length)
                if datetime.fromisoformat(at).utcoffset() is None:  # a moment, as written
                    raise ValueError(at)
            # A line anyone with the file could have written: too deep for json to read
            # (RecursionError), a length that is no number of events (1e400, 2.5, true).
            except (ValueError, TypeError, KeyError, RecursionError):
                if problems is not None:
                    problems.append(
                        Problem(CHECKPOINTS, CHECKPOINT_UNREADABLE, None, f"line {number}")
                    )
                continue
            found.setdefault(key, {}).setdefault((length, head), at)
    return found


# Checkpoints' positions looked up in one query up to this many (under any SQLite's limit
# on a statement's parameters).
_POSITIONS_A_QUERY = 900


def _check_points(key: str, points: dict[tuple[int, str], str], count: int) -> list[Problem]:
    """Each checkpoint must still hold: the chain at least that long, and its event at that
    length the one checkpointed. The events they name are read a batch of positions a query
    (one query for a chain checkpointed at fewer than _POSITIONS_A_QUERY lengths)."""
    problems = []
    lengths = sorted({length for length, _ in points if 0 < length <= count})
    hashes: dict[int, str | None] = {}
    if key == chain.LEGACY:
        ids = AuditEvent.objects.filter(chain=key).order_by("id").values_list("hash", flat=True)
        hashes = {length: next(iter(ids[length - 1 : length]), None) for length in lengths}
    else:
        for start in range(0, len(lengths), _POSITIONS_A_QUERY):
            batch = lengths[start : start + _POSITIONS_A_QUERY]
            found = AuditEvent.objects.filter(chain=key, seq__in=batch).values_list("seq", "hash")
            hashes.update(found)
    for (length, head), at in points.items():
        if length == 0:
            continue
        if count < length:
            problems.append(Problem(key, BEHIND_CHECKPOINT, None, f"{at}: {length}"))
        elif hashes.get(length) != head:
            problems.append(Problem(key, DIFFERS_FROM_CHECKPOINT, None, at))
    return problems


def verify(checkpoints: Path | None = None, *, lag: timedelta | None = None) -> Report:
    """Check every chain, its head, and every checkpoint of it; with `lag`, that no event
    older than that is in no checkpoint (the checkpoint job is running).

    On PostgreSQL, in one read-only snapshot: pages append while it runs (the nightly job
    meets the day's first users), and heads read before their chains are walked would
    otherwise be shorter than the chains, each append since a false alarm."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return _verify(checkpoints, lag)  # a caller's transaction is its snapshot
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return _verify(checkpoints, lag)


def _verify(checkpoints: Path | None, lag: timedelta | None) -> Report:
    signer = chain.keys()
    problems: list[Problem] = []
    path = checkpoints or Path(settings.AUDIT_CHECKPOINT_FILE)
    heads = {head.key: head for head in AuditChain.objects.all()}
    points = read_checkpoints(path, problems)
    # Without order_by(), the model's ordering would be selected too: every event's id.
    in_events = set(AuditEvent.objects.order_by().values_list("chain", flat=True).distinct())
    keys = sorted(set(heads) | in_events | set(points))
    report = Report(checkpoint_file=path if path.exists() else None, problems=problems)
    # Only against a file with checkpoints in it: with none, verify_audit says so itself.
    since = None if lag is None or not points else datetime.now(UTC) - lag
    held = _held(points, signer)
    for key in keys:
        covered = max((length for length, _ in points.get(key, {})), default=0)
        walked = _walk(key, signer, problems, covered, held)
        count, first_after = walked.count, walked.first_after
        if since is not None and first_after is not None and first_after < since:
            problems.append(
                Problem(key, NOT_CHECKPOINTED, None, f"since {first_after:%Y-%m-%d %H:%M}")
            )
        report.events_read += count
        problems += _check_head(heads.get(key), key, walked, signer)
        if key in points:
            report.checkpoints += len(points[key])
            if not count and key not in heads and any(length for length, _ in points[key]):
                problems.append(Problem(key, CHAIN_GONE))
            else:
                problems += _check_points(key, points[key], count)
        elif count:
            report.not_checkpointed += 1
    report.chains = len(keys)
    return report


def write_checkpoint(path: Path | None = None, *, every: bool = False) -> list[dict[str, Any]]:
    """Append the head (chain, length, last hash, time) of each chain that has moved since
    the file last recorded it, or of every chain (`every`, or when what the file last
    recorded is not known): safe on any schedule (lines are only ever added). Returns what
    was written."""
    path = path or Path(settings.AUDIT_CHECKPOINT_FILE)
    at = datetime.now(UTC).isoformat(timespec="microseconds")  # two runs in a second apart
    points = [
        {"chain": key, "length": length, "head": head, "at": at}
        for key, length, head in AuditChain.objects.order_by("key").values_list(
            "key", "length", "head"
        )
    ]
    return append_checkpoints(path, points, every=every)


def append_checkpoints(
    path: Path, points: list[dict[str, Any]], *, every: bool = False
) -> list[dict[str, Any]]:
    """Append the points whose chain's head the file does not already end with for it.
    Beside the file, `<file>.last` remembers each chain's last head written and which file
    (device, inode, size) it was written to: a file rotated, replaced or cut, or a missing
    or unreadable note, and every point is written again. Without it, every five minutes'
    checkpoint of every chain (sixteen lanes a place) would grow the file by gigabytes a
    year that verify_audit must read.

    Faults (an operator's review): a missing directory is not made (an unmounted store
    would quietly become a local folder), except the project's own var/; one where the note
    cannot be written fails before any line is added (each run added every chain, then
    failed); a write cut short (a full disk) is cut back off, and where the storage refuses
    that (append-only), the next run starts on a line of its own, so only the torn line is
    lost, not the next run's first. Each fault is a CheckpointFileError saying so."""
    if not path.parent.is_dir():
        if path.parent.resolve() != Path(settings.VAR_DIR).resolve():
            raise CheckpointFileError(path, "its folder does not exist (is the store mounted?)")
        path.parent.mkdir(exist_ok=True)
    try:
        # Lines only ever added, under an exclusive lock: two runs at once (cron beside a
        # manual run) never interleave their lines, nor their notes.
        descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    except OSError as error:
        raise CheckpointFileError(path, error.strerror or str(error)) from error
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        draft = _reserve_note(path)  # under the lock: another run's note is not cut short
        status = os.fstat(descriptor)
        last = {} if every else _last_written(path, status)
        moved = [p for p in points if last.get(p["chain"]) != [p["length"], p["head"]]]
        text = "".join(json.dumps(point, sort_keys=True) + "\n" for point in moved).encode()
        if text and status.st_size and os.pread(descriptor, 1, status.st_size - 1) != b"\n":
            text = b"\n" + text  # an earlier run's torn line stays a line of its own
        _append(descriptor, text, status.st_size)
        heads = {p["chain"]: [p["length"], p["head"]] for p in points}
        _remember(path, draft, os.fstat(descriptor), heads)
    except OSError as error:
        raise CheckpointFileError(path, error.strerror or str(error)) from error
    finally:
        os.close(descriptor)  # closing releases the lock
    return moved


class CheckpointFileError(OSError):
    """The checkpoint file could not be written: which, and why, in words."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"Cannot write the audit checkpoint file {path}: {why}")


def _append(descriptor: int, text: bytes, size: int) -> None:
    """All of `text`, synced, or none of it where the storage allows (a torn tail is cut
    back off)."""
    try:
        written = 0
        while written < len(text):
            written += os.write(descriptor, text[written:])
        os.fsync(descriptor)
    except OSError:
        with contextlib.suppress(OSError):  # append-only storage: the next run's newline
            os.ftruncate(descriptor, size)
        raise


def _note(path: Path) -> Path:
    return path.with_name(path.name + ".last")


def _identity(status: os.stat_result) -> list[int]:
    return [status.st_dev, status.st_ino, status.st_size]


def _last_written(path: Path, status: os.stat_result) -> dict[str, list[Any]]:
    try:
        note = json.loads(_note(path).read_bytes())
        if note["file"] != _identity(status):
            return {}
        return {str(key): list(head) for key, head in note["heads"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def _reserve_note(path: Path) -> Path:
    """The note's draft, made before any line is added: where it cannot be, nothing is."""
    draft = path.with_name(path.name + ".last.draft")
    os.close(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640))
    return draft


def _remember(path: Path, draft: Path, status: os.stat_result, heads: dict[str, list[Any]]) -> None:
    """Replace the note in one step (a crash leaves the old note or the new, never half):
    the old one no longer matches the file's size, so the next run writes everything."""
    body = json.dumps({"file": _identity(status), "heads": heads}, sort_keys=True).encode()
    with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640), "wb") as file:
        file.write(body)
        file.flush()
        os.fsync(file.fileno())
    os.replace(draft, _note(path))
