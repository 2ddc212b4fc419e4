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
import sys
import time
from typing import Any

from bench import common

WRITERS = 16


def _writer(
    url: str,
    place_id: int,
    ready: Any,
    start: Any,
    seconds: float,
    counts: Any,
    took: Any,
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
    began = time.perf_counter()
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


def run(url: str, places: list[int], seconds: float) -> float:
    """Events per second, all writers together, each writing to its place's chain: every
    event written, over the longest any writer wrote for (from the start they were all
    given to its last event; not the processes' exits, which 16 processes take a while to
    finish on two cores)."""
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(len(places) + 1)
    start = ctx.Event()
    counts = ctx.Array("i", len(places))
    took = ctx.Array("d", len(places))
    workers = [
        ctx.Process(target=_writer, args=(url, place, ready, start, seconds, counts, took, i))
        for i, place in enumerate(places)
    ]
    for worker in workers:
        worker.start()
    ready.wait()  # every writer has started Django, connected and written once
    time.sleep(1)
    start.set()
    for worker in workers:
        worker.join()
    return round(sum(counts) / max(took), 1)


def measure(url: str, seconds: float) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(url) as conn:
        place_ids = [row[0] for row in conn.execute("SELECT id FROM places_place ORDER BY id")]
    if len(place_ids) < WRITERS:
        raise SystemExit(f"audited writes need {WRITERS} places; the data set has {len(place_ids)}")
    one = run(url, place_ids[:1], seconds)
    spread = run(url, place_ids[:WRITERS], seconds)
    crowded = run(url, place_ids[:1] * WRITERS, seconds)
    return {
        "seconds": seconds,
        "one_writer": one,
        "writers_over_places": spread,
        "writers_in_one_place": crowded,
        "spread_ratio": round(spread / one, 2) if one else None,
        "crowded_ratio": round(crowded / one, 2) if one else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=common.bench_database_url())
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.database_url, args.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
