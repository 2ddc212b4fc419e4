"""Audited writes per second (issue 8, ADR 0014): does the trail scale with its writers?

Each writer is its own process (no GIL between them), appending audit events through the
app's own `audit.record_read`, as a page's read does (ADR 0033), for a fixed time. Three
runs: one writer in one place; 16 writers over 16 places (separate chains: they should not
queue on one another); 16 writers in one place (its lanes: they meet on their heads, but
must not lose throughput to it). Run as `python -m bench.audit_writes`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import threading
import time
from typing import Any

from bench import common

WRITERS = 16
START_TIMEOUT_S = 180  # a writer that fails to start must not leave the bench waiting for ever


def _writer(
    url: str,
    place_id: int,
    ready: Any,
    start: Any,
    seconds: float,
    counts: Any,
    took: Any,
    cpu: Any,
    index: int,
) -> None:
    os.environ.update(common.app_environment(url))
    import django

    django.setup()
    from django.db import transaction

    from dsr.core import audit
    from dsr.core.models import AuditAction

    context = audit.Context(actor=None, place_id=place_id, actor_label=f"bench writer {index}")
    with transaction.atomic():  # connected and warm before the clock starts
        audit.record(context=context, action=AuditAction.VIEWED, object_type="BenchWarmUp")
    ready.wait()
    start.wait()
    done = 0
    began, cpu_began = time.perf_counter(), time.process_time()
    until = began + seconds
    while time.perf_counter() < until:
        # As a page's read is audited (the door): an event on its own, no transaction
        # around it (ADR 0033). A service's change writes its event in its transaction.
        audit.record_read(
            context=context, page="bench", obj=None, person_id=None, place_id=place_id
        )
        done += 1
    counts[index] = done
    took[index] = time.perf_counter() - began
    cpu[index] = time.process_time() - cpu_began


def run(url: str, places: list[int], seconds: float) -> tuple[float, float]:
    """Events per second, all writers together, each writing to its place's chain: every
    event written, over the longest any writer wrote for (from the start they were all
    given to its last event; not the processes' exits, which 16 processes take a while to
    finish on two cores). And the writers' own CPU time an event, in ms."""
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(len(places) + 1)
    start = ctx.Event()
    counts = ctx.Array("i", len(places))
    took = ctx.Array("d", len(places))
    cpu = ctx.Array("d", len(places))
    workers = [
        ctx.Process(target=_writer, args=(url, place, ready, start, seconds, counts, took, cpu, i))
        for i, place in enumerate(places)
    ]
    for worker in workers:
        worker.start()
    try:  # every writer has started Django, connected and written once
        ready.wait(timeout=START_TIMEOUT_S)
    except threading.BrokenBarrierError:
        for worker in workers:
            worker.kill()
            worker.join()
        failed = sorted({w.exitcode for w in workers if w.exitcode not in (None, 0, -9)})
        raise SystemExit(
            f"audited writes: not every writer started within {START_TIMEOUT_S} s"
            + (f" (exit codes {failed}: the traceback is above)" if failed else "")
        ) from None
    time.sleep(1)
    start.set()
    for worker in workers:
        worker.join()
    events = sum(counts)
    return round(events / max(took), 1), round(sum(cpu) / max(events, 1) * 1000, 3)


def measure(url: str, seconds: float, rounds: int = 3) -> dict[str, Any]:
    """Each run `rounds` times, interleaved (one writer, a writer a core, 16 over 16
    places, 16 in one place, then again), and each figure the median of its rounds: on a
    shared two-core machine one 8-second run of 16 processes varies by a third from the
    next, and a drift over the minutes would otherwise fall on one run alone."""
    import psycopg

    with psycopg.connect(url) as conn:
        place_ids = [row[0] for row in conn.execute("SELECT id FROM places_place ORDER BY id")]
    if len(place_ids) < WRITERS:
        raise SystemExit(f"audited writes need {WRITERS} places; the data set has {len(place_ids)}")
    cores = os.cpu_count() or 1
    runs = {
        "one_writer": place_ids[:1],
        "writer_a_core": place_ids[:cores],
        "writers_over_places": place_ids[:WRITERS],
        "writers_in_one_place": place_ids[:1] * WRITERS,
    }
    rates: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, places in runs.items():
            rate, per_event = run(url, places, seconds)
            rates[name].append(rate)
            cpu[name].append(per_event)
    found: dict[str, Any] = {"seconds": seconds, "rounds": rounds, "cores": cores}
    for name in runs:
        found[name] = statistics.median(rates[name])
        found[f"{name}_rounds"] = rates[name]
        found[f"{name}_cpu_ms"] = statistics.median(cpu[name])
    one = found["one_writer"]
    for name, ratio in [
        ("writer_a_core", "a_core_ratio"),
        ("writers_over_places", "spread_ratio"),
        ("writers_in_one_place", "crowded_ratio"),
    ]:
        found[ratio] = round(found[name] / one, 2) if one else None
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=common.bench_database_url())
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.database_url, args.seconds, args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
