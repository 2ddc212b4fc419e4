"""The app served as in production: gunicorn, two sync workers, bench settings.

Started as a subprocess on a free port of 127.0.0.1, waited for until it answers, and
always stopped (SIGTERM, then SIGKILL) when the `with` block ends.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from bench import common

WORKERS = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, database_url: str, log_path: Path) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "dsr.config.wsgi",
            "-w",
            str(WORKERS),
            "-b",
            f"127.0.0.1:{self.port}",
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own fixed command
            command,
            cwd=common.ROOT,
            env=common.app_environment(self.database_url),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_until_answering(timeout=90)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_until_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{tail}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", "/sign-in/", headers={"Host": "127.0.0.1"})
                status = conn.getresponse().status
                conn.close()
                if status == 200 and len(self.workers()) == WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def workers(self) -> list[int]:
        """The worker processes: the gunicorn master's children."""
        assert self.process is not None
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(c) for c in children]

    def memory(self) -> dict[int, dict[str, float]]:
        """Per worker: peak resident set (VmHWM) and current (VmRSS), in MB."""
        out = {}
        for pid in self.workers():
            fields = {}
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    name, _, value = line.partition(":")
                    if name in ("VmHWM", "VmRSS"):
                        fields[name] = int(value.split()[0]) / 1024
            except OSError:
                continue
            out[pid] = {"peak_mb": round(fields["VmHWM"], 1), "rss_mb": round(fields["VmRSS"], 1)}
        return out

    def reset_peaks(self) -> bool:
        """Reset each worker's VmHWM (Linux: write 5 to clear_refs), to measure a phase."""
        done = True
        for pid in self.workers():
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as handle:
                    handle.write("5")
            except OSError:
                done = False
        return done


def environment_note() -> str:
    return f"gunicorn -w {WORKERS}, {os.cpu_count()} CPUs"
