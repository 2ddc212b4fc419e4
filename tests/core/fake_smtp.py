"""A tiny mail server on a real socket, for the outbox's tests (ADR 0014, ADR 0038)."""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import time_machine

from dsr.core import outbox


class FakeSMTP(socketserver.ThreadingTCPServer):
    """A tiny mail server on 127.0.0.1, one thread per connection. What it does with a
    message depends on its recipient's name: `drop…` closes the connection once it has the
    whole message, `silent…` says nothing more, `reject…` refuses it after the data (554),
    `refuse…` refuses the recipient (550 at RCPT), `quit…` takes it and garbles its reply to
    QUIT; anyone else's message is taken (250), after `delay` seconds. While `down`, it
    answers every connection "421 not available" and closes it (a relay out of service)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Session)
        self.received: list[str] = []  # the recipient of every whole message the server had
        self.rcpts: list[str] = []  # every RCPT it was sent
        self.sessions = 0  # every connection it answered
        self.down = False
        self.delay = 0.0
        self.stop = threading.Event()
        self.lock = threading.Lock()


def _kind(address: str) -> str:
    return address.split("@")[0].rstrip("0123456789")


class _Session(socketserver.StreamRequestHandler):
    server: FakeSMTP

    def say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        with self.server.lock:
            self.server.sessions += 1
        if self.server.down:
            self.say("421 fake.example Service not available")
            return
        self.say("220 fake.example ESMTP")
        to = ""
        while line := self.rfile.readline():
            verb = line[:4].decode().upper()
            if verb in ("EHLO", "HELO"):
                self.say("250 fake.example")
            elif verb in ("MAIL", "RSET", "NOOP"):
                self.say("250 OK")
            elif verb == "RCPT":
                to = line.decode().split("<", 1)[1].split(">", 1)[0]
                with self.server.lock:
                    self.server.rcpts.append(to)
                if _kind(to) == "drip":  # each line in time for EMAIL_TIMEOUT, no end
                    while not self.server.stop.wait(0.2):
                        try:
                            self.say("250-Still thinking")
                        except OSError:
                            return
                    return
                self.say("550 No such user" if _kind(to) == "refuse" else "250 OK")
            elif verb == "DATA":
                self.say("354 Go ahead")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                with self.server.lock:
                    self.server.received.append(to)
                if _kind(to) == "drop":
                    return  # the connection closes: the reply never comes
                if _kind(to) == "silent":
                    self.server.stop.wait()
                    return
                time.sleep(self.server.delay)
                self.say("554 Rejected" if _kind(to) == "reject" else "250 Queued")
            elif verb == "QUIT":
                # smtplib refuses a reply line over 8192 bytes
                self.say("221 " + "x" * 9000 if _kind(to) == "quit" else "221 Bye")
                return
            else:
                self.say("502 Not implemented")


@contextmanager
def running(port: int = 0) -> Iterator[FakeSMTP]:
    """A FakeSMTP serving on `port` (any free one by default) until the block ends."""
    server = FakeSMTP(port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()


def send_at(moment: datetime) -> dict[str, int]:
    """One outbox run with the clock at `moment` (frozen: each wait is the code's own)."""
    with time_machine.travel(moment, tick=False):
        return outbox.send_pending()


def every(step: timedelta, *, start: datetime, until: datetime) -> Iterator[datetime]:
    """The moments a scheduler runs a job: `start`, then every `step`, up to `until`."""
    moment = start
    while moment <= until:
        yield moment
        moment += step
