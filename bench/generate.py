"""Generate (or reuse) a bench register: `python -m bench.generate --people N`.

One process per database: the app's settings read DATABASE_URL when Django starts.
The data set is reused while the marker row written at the end matches what was asked
(people, places, generator version); anything else, or --regenerate, drops the database
and builds it again (audit rows cannot be deleted: a trigger refuses it).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

import psycopg
from psycopg import sql

from bench import common

# Bump when the generated data change shape, so older data sets are rebuilt.
# 4: keyed per-place audit chains (ADR 0014); 5: stays and C(E)TRs; 6: step 6;
# 7: tracker meetings (bench/meetings.py)
GENERATOR_VERSION = 7
MARKER = "bench_dataset"


def read_marker(url: str) -> tuple[int, int, int] | None:
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass(%s)", [MARKER]).fetchone()[0] is None:  # type: ignore[index]
            return None
        row = conn.execute(
            sql.SQL(
                "SELECT people, places, version FROM {} ORDER BY finished_at DESC LIMIT 1"
            ).format(sql.Identifier(MARKER))
        ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def prepare_database(url: str, *, wanted: tuple[int, int, int], regenerate: bool) -> bool:
    """True when the data set is there to reuse; otherwise an empty database is ready."""
    name = common.database_name(url)
    if "bench" not in name:
        raise SystemExit(f"Refusing to use {name!r}: the bench only touches *bench* databases")
    try:
        conn = psycopg.connect(common.with_database(url, "postgres"), autocommit=True)
    except psycopg.OperationalError as error:
        raise SystemExit(
            f"PostgreSQL is not reachable for {url}: {error}\n"
            "make bench needs a PostgreSQL server (BENCH_DATABASE_URL or DATABASE_URL)"
        ) from error
    with conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not regenerate:
            found = read_marker(url)
            if found == wanted:
                return True
            print(f"{name}: {'no finished data set' if found is None else found}; regenerating")
        if exists:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return False


def start_django(url: str) -> None:
    """Django on this database, with its schema brought up to date.

    Migrating a reused data set too: the app's later migrations (an index, a column)
    must be in force for the figures to be the app's as it stands.
    """
    os.environ.update(common.app_environment(url))
    os.environ["DB_STATEMENT_TIMEOUT_MS"] = "0"  # one COPY writes millions of rows
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def generate(url: str, *, people: int, places: int, seed: int) -> dict[str, int]:
    from django.db import connection

    from bench import history

    with connection.cursor() as cursor:
        # Nothing here is worth an fsync per commit; the data set is rebuilt if lost.
        cursor.execute("SET synchronous_commit TO OFF")
    # Millions of long-lived tuples: the cyclic GC would rescan them again and again.
    gc.disable()
    try:
        summary = history.build(people=people, places=places, seed=seed)
    finally:
        gc.enable()
    with connection.cursor() as cursor:
        # Fresh statistics and visibility maps, as a long-running database would have.
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute(
            sql.SQL(
                "CREATE TABLE {} (people integer, places integer, version integer,"
                " audit_events bigint, finished_at timestamptz DEFAULT now())"
            )
            .format(sql.Identifier(MARKER))
            .as_string(None)
        )
        cursor.execute(
            f"INSERT INTO {MARKER} (people, places, version, audit_events)"  # noqa: S608
            " VALUES (%s, %s, %s, %s)",
            [people, places, GENERATOR_VERSION, summary["audit_events"]],
        )
    return summary


def places_for(people: int) -> int:
    """40 places at national scale; a small register keeps 400 people a place or more,
    so its list pages are as full as the large one's (the ratio then measures scale)."""
    return max(1, min(40, people // 400))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=common.bench_database_url())
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--places", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args(argv)
    places = args.places or places_for(args.people)
    wanted = (args.people, places, GENERATOR_VERSION)
    name = common.database_name(args.database_url)
    reuse = prepare_database(args.database_url, wanted=wanted, regenerate=args.regenerate)
    start_django(args.database_url)
    if reuse:
        print(f"{name}: reusing {args.people:,} people in {places} places")
        return 0
    print(f"{name}: generating {args.people:,} people in {places} places")
    started = time.perf_counter()
    summary = generate(args.database_url, people=args.people, places=places, seed=args.seed)
    took = time.perf_counter() - started
    print(f"{name}: {summary['audit_events']:,} audit events; generated in {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
