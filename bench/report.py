"""Targets, the printed table and bench/results/latest.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The targets on the 2-core machine: (name, how to read the value, bound, "<=" or ">=").
PAGE_MEDIAN_MS = 50.0
FLATNESS = 1.5
OVERHEAD = 3.0
PEER = 0.5
TAIL = 2.0  # p95 ÷ median, one request at a time
RPS = 100.0
RSS_MB = 150.0
# Audited writes (ADR 0014): writers over separate places must add throughput; writers in
# one place must not lose it to their queue.
WRITES_SPREAD = 1.5
WRITES_CROWDED = 0.9
READ_PAGES = (
    "list",
    "search",
    "filtered",
    "person",
    "inpatients",
    "cetr_schedule",
    "referrals",
    "caseload",
    "agenda",
    "pack",
    "pack_docx",
)
SEARCHES = ("search", "filtered")  # the list page's own variants: no median target of their own


def _target(
    name: str, value: float | None, bound: float, op: str, unit: str = ""
) -> dict[str, Any]:
    met = value is not None and (value <= bound if op == "<=" else value >= bound)
    return {"name": name, "value": value, "bound": bound, "op": op, "unit": unit, "met": met}


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    pages = results["pages"]
    ratios = results["ratios"]
    out = [
        _target(f"{page} page median", pages[page]["median_ms"], PAGE_MEDIAN_MS, "<=", "ms")
        for page in READ_PAGES
        if page not in SEARCHES
    ]
    out += [
        _target(
            f"p95 ÷ median, {page}",
            round(pages[page]["p95_ms"] / pages[page]["median_ms"], 2)
            if pages.get(page, {}).get("median_ms")
            else None,
            TAIL,
            "<=",
        )
        for page in READ_PAGES
    ]
    out += [
        _target(f"scale flatness, {page}", ratios["flatness"].get(page), FLATNESS, "<=")
        for page in READ_PAGES
    ]
    out += [
        _target(f"overhead, {page}", ratios["overhead"].get(page), OVERHEAD, "<=")
        for page in READ_PAGES
    ]
    out.append(_target("peer (our search ÷ admin search)", ratios["peer"], PEER, "<="))
    out.append(_target("mixed read load", results["mixed"]["rps"], RPS, ">=", "requests/s"))
    out.append(_target("peak RSS per worker", results["rss_mb"], RSS_MB, "<=", "MB"))
    writes = results.get("audit_writes")
    if writes:
        out.append(
            _target(
                "audited writes, 16 writers over 16 places ÷ one writer",
                writes["spread_ratio"],
                WRITES_SPREAD,
                ">=",
            )
        )
        out.append(
            _target(
                "audited writes, 16 writers in one place ÷ one writer",
                writes["crowded_ratio"],
                WRITES_CROWDED,
                ">=",
            )
        )
    return out


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _writes_line(writes: dict[str, Any] | None) -> str:
    if not writes:
        return "audited writes: not measured"
    spread, crowded = writes["writers_over_places"], writes["writers_in_one_place"]
    rounds = writes.get("rounds", 1)
    line = (
        f"audited writes (events/s, median of {rounds} rounds of {writes['seconds']:.0f} s):"
        f" one writer {writes['one_writer']:.0f}; 16 writers over 16 places {spread:.0f}"
        f" (x{writes['spread_ratio']}); 16 writers in one place {crowded:.0f}"
        f" (x{writes['crowded_ratio']})"
    )
    if "writer_a_core" not in writes:
        return line
    rounds_of = ", ".join(f"{rate:.0f}" for rate in writes["writers_over_places_rounds"])
    return (
        line + f"\n  a writer a core ({writes['cores']} over {writes['cores']} places):"
        f" {writes['writer_a_core']:.0f} (x{writes['a_core_ratio']}); 16 over 16 places by"
        f" round: {rounds_of}; the writers' CPU an event: one {writes['one_writer_cpu_ms']:.2f}"
        f" ms, a core each {writes['writer_a_core_cpu_ms']:.2f}, 16"
        f" {writes['writers_over_places_cpu_ms']:.2f}"
    )


def table(results: dict[str, Any]) -> str:
    pages = results["pages"]
    loaded = results["mixed"]["pages"]
    small = results["small_pages"]
    ratios = results["ratios"]
    lines = [
        f"DSR bench: {results['people']:,} people in {results['places']} places"
        f" ({results['audit_events']:,} audit events); small register {results['small_people']:,}"
        f" people; {results['server']}",
        "",
        f"{'page':<14}{'median ms':>10}{'p95 ms':>9}{'n':>6}{'err':>5}"
        f"{'loaded med':>12}{'loaded p95':>12}{'small med':>11}{'flatness':>10}{'overhead':>10}",
    ]
    for page in (*READ_PAGES, "admin_search", "sign_in"):
        row = pages.get(page, {})
        lines.append(
            f"{page:<14}{_fmt(row.get('median_ms')):>10}{_fmt(row.get('p95_ms')):>9}"
            f"{_fmt(row.get('n')):>6}{_fmt(row.get('errors')):>5}"
            f"{_fmt(loaded.get(page, {}).get('median_ms')):>12}"
            f"{_fmt(loaded.get(page, {}).get('p95_ms')):>12}"
            f"{_fmt(small.get(page, {}).get('median_ms')):>11}"
            f"{_fmt(ratios['flatness'].get(page), 2):>10}"
            f"{_fmt(ratios['overhead'].get(page), 2):>10}"
        )
    mixed = results["mixed"]
    latency_cpu = results["latency_cpu"]
    lines += [
        f"(one at a time; other processes took {latency_cpu['others_cpu_s']} CPU-s of"
        f" {latency_cpu['cpus']} CPUs x {latency_cpu['wall_s']} s meanwhile)",
        "",
        f"mixed read load: {mixed['rps']:.1f} requests/s, {mixed['users']} users for"
        f" {mixed['seconds']:.0f} s, {mixed['requests']} requests, {mixed['errors']} errors",
        f"  CPU in that time: ours {mixed['cpu']['ours_cpu_s']} s ("
        + ", ".join(f"{k} {v}" for k, v in mixed["cpu"]["ours_by_group_cpu_s"].items())
        + f"), other processes"
        f" {mixed['cpu']['others_cpu_s']} s, idle {mixed['cpu']['idle_cpu_s']} s"
        f" of {mixed['cpu']['cpus']} CPUs x {mixed['cpu']['wall_s']} s;"
        f" were the bench alone: ~{_fmt(mixed['rps_if_alone'])} requests/s",
        f"peer: our search {_fmt(pages['search']['median_ms'])} ms ÷ admin changelist search"
        f" {_fmt(pages.get('admin_search', {}).get('median_ms'))} ms = {_fmt(ratios['peer'], 2)}",
        "overhead: in-process server time ÷ raw SQL time of the same queries:"
        + "".join(
            f"\n  {page}: {o['server_ms']:.1f} ms ÷ {o['sql_ms']:.1f} ms"
            f" ({o['queries']:.0f} queries) = {o['overhead']:.2f}"
            f"; over HTTP {_fmt(ratios['overhead_http'].get(page), 2)}"
            f"; split: SQL {o['split_ms']['sql']:.1f}, templates {o['split_ms']['template']:.1f},"
            f" middleware+view+ORM {o['split_ms']['other']:.1f} ms"
            for page, o in results["overhead_detail"].items()
        ),
        "peak RSS per worker (MB): "
        + ", ".join(f"{m['peak_mb']:.0f}" for m in results["rss"]["whole_run"].values())
        + "; reads only (after sign-ins): "
        + ", ".join(f"{m['peak_mb']:.0f}" for m in results["rss"]["reads_only"].values()),
        _two_servers_line(results.get("two_servers")),
        _writes_line(results.get("audit_writes")),
        "machine load average (1 min) before/after: "
        + " / ".join(f"{v[0]:.2f}" for v in results["load_average"].values()),
        f"timings: generation {results['timings']['generate_s']:.0f} s"
        f" (small {results['timings']['generate_small_s']:.0f} s),"
        f" total {results['timings']['total_s']:.0f} s",
        "",
        "targets:",
    ]
    for t in results["targets"]:
        mark = "met   " if t["met"] else "MISSED"
        lines.append(
            f"  [{mark}] {t['name']}: {_fmt(t['value'], 2)} {t['unit']} (bound {t['op']}"
            f" {t['bound']:g})".replace("  (", " (")
        )
    missed = [t for t in results["targets"] if not t["met"]]
    if missed:
        lines.append("")
    for t in missed:
        value = f"{_fmt(t['value'], 2)} {t['unit']}".strip()
        lines.append(f"MISSED: {t['name']} = {value}, bound {t['op']} {t['bound']:g}")
    return "\n".join(lines)


def _two_servers_line(two: dict[str, Any] | None) -> str:
    if not two:
        return "two app servers: not measured"
    return (
        f"two app servers on one database: {two['rps']:.1f} requests/s"
        f" (one server: {two['one_server_rps']:.1f}), {two['requests']} requests,"
        f" {two['errors']} errors (half the sessions were started on the other server)"
    )


def write(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
