"""Audited writes per second (issue 8, ADR 0014): does the trail scale with its writers?

Each writer is its own process (no GIL between them), appending audit events through the
app's own `audit.record`, each in its own transaction as a page's read would, for a fixed
time. Three runs: one writer in one place; 16 writers over 16 places (separate chains: they
should not queue on one another); 16 writers in one place (one chain: they queue on its
head, but must not lose throughput to the queueing). Run as `python -m bench.audit_writes`.
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
    url: str, place_id: int, ready: Any, start: Any, seconds: float, counts: Any, index: int
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
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        with transaction.atomic():
            audit.record(
                context=context,
                action=AuditAction.VIEWED,
                object_type="BenchWrite",
                object_id=str(done),
            )
        done += 1
    counts[index] = done


def run(url: str, places: list[int], seconds: float) -> float:
    """Events per second, all writers together, each writing to its place's chain."""
    ctx = mp.get_context("spawn")
    ready = ctx.Barrier(len(places) + 1)
    start = ctx.Event()
    counts = ctx.Array("i", len(places))
    workers = [
        ctx.Process(target=_writer, args=(url, place, ready, start, seconds, counts, i))
        for i, place in enumerate(places)
    ]
    for worker in workers:
        worker.start()
    ready.wait()  # every writer has started Django, connected and written once
    time.sleep(1)
    began = time.perf_counter()
    start.set()
    for worker in workers:
        worker.join()
    took = max(time.perf_counter() - began, seconds)
    return round(sum(counts) / took, 1)


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
