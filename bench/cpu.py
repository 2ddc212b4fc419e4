"""How much of the machine a phase had: CPU seconds of ours versus everything else.

The machine is shared (other engineers' test suites, a browser): a throughput figure
means little without knowing how much CPU it got. From /proc: the machine's busy time,
and the CPU time of our processes (the load driver, gunicorn, the PostgreSQL backends
serving the bench database).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

TICK = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """utime + stime of a process and its reaped children, in seconds (0 if gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return sum(int(v) for v in fields[11:13]) / TICK


def machine_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / TICK, sum(values) / TICK


def backends(database_url: str) -> list[int]:
    """PostgreSQL backend processes connected to the bench database (not this query's)."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return [row[0] for row in rows]


@dataclass
class Meter:
    """CPU seconds over a `with` block: the machine's, and per named group of our pids.

    A group is a list of pids or a function giving them: a function is asked again at
    the end, and pids new by then (a worker's fresh database connection, say) count in
    full. A process that ended meanwhile is lost to the count (its time shows as
    "other processes"): the figure is an estimate, to read the throughput by.
    """

    groups: dict[str, Callable[[], list[int]]]
    busy: float = 0.0
    total: float = 0.0
    used: dict[str, float] = field(default_factory=dict)
    _start: dict[str, dict[int, float]] = field(default_factory=dict)

    def __enter__(self) -> Meter:
        self.busy, self.total = machine_seconds()
        self._start = {k: {p: process_seconds(p) for p in f()} for k, f in self.groups.items()}
        return self

    def __exit__(self, *exc: object) -> None:
        busy, total = machine_seconds()
        self.busy, self.total = busy - self.busy, total - self.total
        for name, pids in self.groups.items():
            before = self._start[name]
            now = set(pids()) | set(before)
            self.used[name] = sum(
                process_seconds(p) - before.get(p, 0.0) for p in now if process_seconds(p)
            )

    @property
    def ours(self) -> float:
        return sum(self.used.values())

    def summary(self) -> dict[str, Any]:
        cpus = os.cpu_count() or 1
        return {
            "cpus": cpus,
            "wall_s": round(self.total / cpus, 1),
            "ours_cpu_s": round(self.ours, 1),
            "ours_by_group_cpu_s": {k: round(v, 1) for k, v in self.used.items()},
            "others_cpu_s": round(max(0.0, self.busy - self.ours), 1),
            "idle_cpu_s": round(self.total - self.busy, 1),
        }
