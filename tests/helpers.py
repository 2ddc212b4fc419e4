"""Reading what a user would see on a page; running work on connections of its own; a
database that goes away."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from django.db import OperationalError, connection, connections
from django.test.utils import CaptureQueriesContext


def register_count(response) -> int:
    """The total the register list shows ("<strong>N</strong> people")."""
    match = re.search(
        r'id="result-count"[^>]*>\s*<strong>(\d+)</strong>', response.content.decode()
    )
    assert match, "no result count on the page"
    return int(match.group(1))


def error_messages(response) -> list[str]:
    """The texts in the NHS error summary."""
    body = response.content.decode()
    summary = re.search(r'class="nhsuk-error-summary".*?</div>\s*</div>', body, re.S)
    if not summary:
        return []
    found = re.findall(r"<a [^>]*>(.*?)</a>|<li>(?!\s*<a)(.*?)</li>", summary.group(0), re.S)
    return [
        html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip())
        for pair in found
        for text in pair
        if text
    ]


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured.captured_queries)


def at(where, name: str, *args) -> str:
    """The address of a place's page. `at(place, "register:list")`; for a page about a
    record, the record: `at(person, "register:person")`, `at(action, "actions:update")`."""
    from dsr.core.routing import url_in
    from dsr.places.models import Place

    if isinstance(where, Place):
        return url_in(where.pk, name, *args)
    return url_in(where.place_id, name, where.pk, *args)


# Audit actions that record a read or a refusal, not a change: a rejected form may add these.
READS = ["viewed", "listed", "searched", "checked", "denied", "refused"]


WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def readable(response) -> str:
    """What a reader of the response sees: the page, or the text of a Word document
    (its body, tables, page headers and footers), for walks over every page."""
    if response.get("Content-Type", "") != WORD:
        return response.content.decode()
    from io import BytesIO

    from docx import Document

    document = Document(BytesIO(response.content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs + section.footer.paragraphs]
    return "\n".join(parts)


def in_threads(work: Callable[[int], object], count: int = 1) -> list[BaseException]:
    """`work(0)` to `work(count - 1)` at once, each in a thread with its own database
    connection (closed when it is done, so the test database can be dropped); what they
    raised, for the test to hold to []."""
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            work(n)
        except BaseException as error:  # noqa: BLE001 - returned to the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def until_someone_waits_on_a_lock(within_seconds: float) -> bool:
    """Hold this thread (and its open transaction) until another session is seen waiting
    on a lock (PostgreSQL's pg_stat_activity): an interleaving made certain, not timed."""
    deadline = time.monotonic() + within_seconds
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh within a transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def terminate_this_connection() -> None:
    """Ends this thread's database session from another connection, as a server restart
    or a failover would, and waits until it is gone."""
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(
        dbname=params["dbname"],
        user=params["user"],
        host=params["host"],
        port=params["port"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        for _ in range(100):
            row = admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
            if row is None:
                return
            time.sleep(0.05)
    raise AssertionError("the database session was not terminated")


@contextmanager
def database_unreachable() -> Iterator[None]:
    """The database goes away for what runs inside. On PostgreSQL this thread's session is
    ended from another connection (terminate_this_connection: a restart, a failover); the
    test needs `django_db(transaction=True)`, and the dead connection is dropped after.
    SQLite has no server to lose: every statement fails as an unreadable file's would."""
    if connection.vendor == "postgresql":
        terminate_this_connection()
        try:
            yield
        finally:
            connection.close()
        return

    def refuse(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        raise OperationalError("unable to open database file")

    with connection.execute_wrapper(refuse):
        yield
