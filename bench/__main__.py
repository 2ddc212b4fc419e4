"""`python -m bench` (`make bench`): figures and ratios for the register at national scale.

1. Generate (or reuse) the large register (100,000 people) and a small one (1,000) on
   PostgreSQL, each in its own database.
2. Serve both with gunicorn (two workers each, production-like settings, plus a
   bench-only admin site as the peer) and drive them over HTTP: timed sign-ins, then
   one-at-a-time page latencies, large and small in turn (flatness) with the admin's
   search alongside (peer), then a mixed read load on the large one (rps, RSS), then the
   same load over two app servers on that one database (sessions moved between them).
3. Time each page in-process against the raw SQL of its own queries (overhead).
4. Print the table and targets; write bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench import common, cpu, load, report
from bench.generate import GENERATOR_VERSION, places_for
from bench.server import Server, environment_note


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--people", type=int, default=int(env("BENCH_PEOPLE", 100_000)))
    parser.add_argument("--small-people", type=int, default=int(env("BENCH_SMALL_PEOPLE", 1_000)))
    parser.add_argument(
        "--regenerate",
        action="store_true",
        default=env("BENCH_REGENERATE", "") not in ("", "0"),
        help="rebuild both data sets even if they are there",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=float(env("BENCH_DURATION", 30)),
        help="seconds of mixed read load",
    )
    parser.add_argument("--users", type=int, default=8, help="virtual users in the mixed load")
    parser.add_argument("--rounds", type=int, default=int(env("BENCH_ROUNDS", 100)))
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--sign-ins", type=int, default=20)
    parser.add_argument("--latency-users", type=int, default=4)
    parser.add_argument("--write-seconds", type=float, default=8.0, help="each audited-writes run")
    return parser.parse_args(argv)


def generate(url: str, people: int, regenerate: bool) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "bench.generate", "--database-url", url]
    command += ["--people", str(people)] + (["--regenerate"] if regenerate else [])
    subprocess.run(command, cwd=common.ROOT, check=True)  # noqa: S603
    return time.perf_counter() - started


def audit_events(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT audit_events FROM bench_dataset").fetchone()[0])  # type: ignore[index]


def run_served(url: str, small_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Both registers served at once (idle workers cost nothing), so that their page
    latencies can be taken in turn; then the mixed load on the large one alone."""
    register = load.Register.read(url)
    small_register = load.Register.read(small_url)
    with (
        Server(url, common.RESULTS / "gunicorn-large.log") as server,
        Server(small_url, common.RESULTS / "gunicorn-small.log") as small_server,
    ):
        print(f"serving on 127.0.0.1:{server.port} (large), :{small_server.port} (small)")
        print(f"signing in ({args.sign_ins} timed sign-ins, then the virtual users)", flush=True)
        sign_ins = load.measure_sign_in(server.port, register, args.sign_ins)
        latency_users, _ = load.signed_in_users(server.port, register, args.latency_users)
        admin = load.Browser(server.port)
        load.sign_in_admin(admin)
        mixed_users, _ = load.signed_in_users(server.port, register, args.users)
        small_users, _ = load.signed_in_users(small_server.port, small_register, args.latency_users)
        after_sign_ins = server.memory()
        reset = server.reset_peaks()
        ours = {
            "gunicorn": lambda: [server.pid, *server.workers(), *small_server.workers()],
            "postgresql": lambda: cpu.backends(url) + cpu.backends(small_url),
            "load driver": lambda: [os.getpid()],
        }
        print("timing pages one at a time, large and small register in turn", flush=True)
        large = load.Target(register, latency_users, admin)
        small = load.Target(small_register, small_users)
        with cpu.Meter(ours) as latency_meter:
            load.measure_latency(
                [large, small], rounds=args.rounds, warmup=args.warmup, max_seconds=600
            )
            print(f"timing {', '.join(load.SLOW_PAGES)}, {load.SLOW_ROUNDS} rounds", flush=True)
            load.measure_slow([large, small])
        print(f"mixed read load: {args.users} users for {args.duration:.0f} s", flush=True)
        with cpu.Meter(ours) as meter:
            mixed, rps, requests = load.mixed_load(
                server.port, register, mixed_users, seconds=args.duration
            )
        reads_only = server.memory()
        two = two_servers(url, register, mixed_users, args.duration)
    pages = large.samples.summary()
    times = sorted(sign_ins)
    pages["sign_in"] = {
        "n": len(times),
        "errors": 0,
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(load.percentile(times, 95), 2),
    }
    # The peak over the whole run: the higher of the two phases' peaks, per worker.
    whole = {
        pid: {
            "peak_mb": max(m["peak_mb"], reads_only.get(pid, m)["peak_mb"]),
            "rss_mb": m["rss_mb"],
        }
        for pid, m in after_sign_ins.items()
    }
    return {
        "pages": pages,
        "latency_cpu": latency_meter.summary(),
        "small_pages": small.samples.summary(),
        "mixed": {
            "rps": round(rps, 1),
            "users": args.users,
            "seconds": args.duration,
            "requests": requests,
            "errors": sum(mixed.errors.values()),
            "pages": mixed.summary(),
            "cpu": meter.summary(),
            # What the two cores would serve were the bench alone on them: requests per
            # CPU-second of ours (driver, gunicorn, PostgreSQL), times the CPUs.
            "rps_if_alone": round(requests / meter.ours * (os.cpu_count() or 1), 1)
            if meter.ours
            else None,
        },
        "rss": {"whole_run": whole, "reads_only": reads_only, "peaks_reset": reset},
        "two_servers": {**two, "one_server_rps": round(rps, 1)},
        "spare": register.take(),
    }


def two_servers(
    url: str, register: load.Register, users: list[load.VirtualUser], seconds: float
) -> dict[str, Any]:
    """Beyond one machine (docs/deploy.md): a second app server on the same database, half
    the signed-in users moved to it with their sessions, the same mixed load over both."""
    with Server(url, common.RESULTS / "gunicorn-second.log") as second:
        print(f"mixed read load over two app servers (second on :{second.port})", flush=True)
        ports = [user.browser.port for user in users]
        for user in users[::2]:
            user.browser.port = second.port
        try:
            mixed, rps, requests = load.mixed_load(second.port, register, users, seconds=seconds)
        finally:
            for user, port in zip(users, ports, strict=True):
                user.browser.port = port
    return {"rps": round(rps, 1), "requests": requests, "errors": sum(mixed.errors.values())}


def overhead(url: str, coordinator: load.Coordinator) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.ratios", "--database-url", url]
    command += ["--email", coordinator.email, "--key", coordinator.key]
    done = subprocess.run(  # noqa: S603
        command, cwd=common.ROOT, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def audit_writes(url: str, seconds: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.audit_writes", "--database-url", url]
    command += ["--seconds", str(seconds)]
    done = subprocess.run(  # noqa: S603
        command,
        cwd=common.ROOT,
        check=True,
        capture_output=True,
        text=True,
        env=common.app_environment(url),
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    load_before = os.getloadavg()
    url = common.bench_database_url()
    small_url = common.small_database_url(url)
    print(f"bench databases: {common.database_name(url)}, {common.database_name(small_url)}")
    generate_s = generate(url, args.people, args.regenerate)
    generate_small_s = generate(small_url, args.small_people, args.regenerate)

    large = run_served(url, small_url, args)
    small_pages = large["small_pages"]
    print("timing pages in-process against their raw SQL", flush=True)
    detail = overhead(url, large["spare"])
    print("audited writes: 1 writer, 16 over 16 places, 16 in one place", flush=True)
    writes = audit_writes(url, args.write_seconds)

    pages = large["pages"]
    results: dict[str, Any] = {
        "finished_at": datetime.now(UTC).isoformat(),
        "people": args.people,
        "places": places_for(args.people),
        "small_people": args.small_people,
        "audit_events": audit_events(url),
        "generator_version": GENERATOR_VERSION,
        "server": environment_note(),
        # Other work on the machine skews every figure: kept to read them by.
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "method": {
            "latency": f"one request at a time, {args.latency_users} signed-in coordinators in"
            f" turn, large and small register alternating by round, {args.warmup} warm-up"
            f" rounds dropped, {args.rounds} rounds",
            "mixed": f"{args.users} users in a closed loop, mix {load.MIX}",
            "overhead": "in-process (test client) median ÷ median of the captured SQL replayed"
            " with psycopg in a rolled-back transaction, the two in turn",
        },
        "pages": pages,
        "latency_cpu": large["latency_cpu"],
        "small_pages": small_pages,
        "mixed": large["mixed"],
        "two_servers": large["two_servers"],
        "rps": large["mixed"]["rps"],
        "rss": large["rss"],
        "rss_mb": max(m["peak_mb"] for m in large["rss"]["whole_run"].values()),
        "overhead_detail": detail,
        "audit_writes": writes,
        "ratios": {
            "flatness": {
                page: ratio(pages[page]["median_ms"], small_pages.get(page, {}).get("median_ms"))
                for page in report.READ_PAGES
            },
            "overhead": {page: detail[page]["overhead"] for page in report.READ_PAGES},
            "overhead_http": {
                page: ratio(pages[page]["median_ms"], detail[page]["sql_ms"])
                for page in report.READ_PAGES
            },
            "peer": ratio(
                pages["search"]["median_ms"], pages.get("admin_search", {}).get("median_ms")
            ),
        },
        "timings": {
            "generate_s": round(generate_s, 1),
            "generate_small_s": round(generate_small_s, 1),
        },
    }
    results["timings"]["total_s"] = round(time.perf_counter() - began, 1)
    results["targets"] = report.targets(results)
    results["missed"] = [t["name"] for t in results["targets"] if not t["met"]]
    report.write(results, common.RESULTS / "latest.json")
    print()
    print(report.table(results))
    print(f"\nwritten: {(common.RESULTS / 'latest.json').relative_to(common.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
