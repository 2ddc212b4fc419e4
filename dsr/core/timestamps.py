"""PostgreSQL's timestamps read by psycopg's own loader, written in C, rather than Django's.

Django reads every `timestamp with time zone` through a loader of its own, written in Python
(it reads the value in the connection's time zone, UTC, then marks it as being in that zone):
about 3.5 microseconds a value against psycopg's 0.2, and a person's page reads a few hundred
(every record's created and updated times). psycopg's loader gives the same value in the
connection's time zone, which Django sets to UTC on connecting; so on a connection in UTC,
and only there, ours is registered in Django's place (tests/core/test_timestamps.py).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.backends.signals import connection_created
from psycopg.adapt import Loader
from psycopg.types.datetime import TimestamptzLoader

try:  # psycopg's C implementation, when installed (psycopg[binary] or [c])
    from psycopg_binary._psycopg import (  # type: ignore[attr-defined]
        TimestamptzLoader as FastLoader,
    )
except ImportError:  # pragma: no cover - the pure-Python psycopg: its own loader
    FastLoader = TimestamptzLoader


class UTCTimestamptzLoader(Loader):
    """psycopg's loader (its C class cannot be subclassed: each of ours holds one and lends
    it its `load`). `timezone` is what Django looks for on a connection's loader before it
    registers its own on each cursor (postgresql/base.py `create_cursor`)."""

    timezone = datetime.UTC

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self.load = FastLoader(oid, context).load  # type: ignore[method-assign]

    def load(self, data: Any) -> Any:  # replaced on each instance by the C loader's
        raise NotImplementedError


def use_fast_timestamps(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "postgresql" or connection.timezone is not datetime.UTC:
        return
    if connection.connection.info.parameter_status("TimeZone") != "UTC":
        return  # psycopg would read values into another zone: Django's loader stays
    connection.connection.adapters.register_loader("timestamptz", UTCTimestamptzLoader)


def connect() -> None:
    connection_created.connect(use_fast_timestamps, dispatch_uid="dsr-fast-timestamps")
