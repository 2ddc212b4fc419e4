"""Structured logs: one JSON object a line, each carrying its request's id, and no care data.

What may carry care data is left out by construction: no query strings (a search holds a
name or an NHS number), no form data, and no exception messages (a database error names
the values it refused, such as a duplicate NHS number): an exception is logged by its type
and where it was raised. Nor do secrets in a path (a set-up link's token: whoever read the
log could finish setting up the account it was sent for). The request id (also the
X-Request-Id header and every audit event's `request_id`) leads from a log line to what
the audit trail says happened.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

request_id: ContextVar[str] = ContextVar("dsr_request_id", default="")

# Extra fields a log call may add (logger.info(..., extra={...})); anything else is dropped.
ALLOWED_EXTRAS = (
    "method",
    "path",
    "status",
    "duration_ms",
    "user_id",
    "place_id",
    "view",
    "chain",
    "count",
)

# Paths whose next segment is a secret (accounts:setup_link's token), however the path was
# written (no trailing slash, a query string after it): logged as the prefix and "…".
SECRET_PATH = re.compile(r"(/sign-in/set-up/)[^/?#\s]+")


def without_secrets(text: str) -> str:
    return SECRET_PATH.sub(r"\1…", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self._message(record),
        }
        current = request_id.get()
        if current:
            entry["request_id"] = current
        for name in ALLOWED_EXTRAS:
            if hasattr(record, name):
                entry[name] = getattr(record, name)
        if "path" in entry:
            entry["path"] = without_secrets(str(entry["path"]))
        if record.exc_info and record.exc_info[0] is not None:
            kind, _value, trace = record.exc_info
            entry["exception"] = kind.__name__
            entry["raised_at"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(trace)[-5:]
            ]
        return json.dumps(entry, default=str)

    @staticmethod
    def _message(record: logging.LogRecord) -> str:
        # Django's request loggers put the request in the arguments; the message names only
        # its path. Anything else is the logger's own format string, never user input.
        message = record.getMessage()
        return (
            without_secrets(message.split("?", 1)[0])
            if record.name.startswith("django.")
            else message
        )


access = logging.getLogger("dsr.access")


class AccessLogMiddleware:
    """One line per request: method, path (never the query string), status, time taken,
    the user's and place's ids. After RequestIdMiddleware, so it carries the id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        place = getattr(request, "place", None)
        access.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": getattr(user, "pk", None),
                "place_id": getattr(place, "pk", None),
            },
        )
        return response
