"""Faults (issue 8): a database restart between requests costs nobody a 500; one in the
middle of a request gives that request the service's own error page (or its page), and the
next request is served."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.test.client import FakePayload
from django.utils.crypto import get_random_string

from dsr.core import dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.core.verify import verify
from dsr.risk.models import Rating
from tests import factories
from tests.helpers import at, terminate_this_connection


def serve(handler: WSGIHandler, path: str, cookie: str) -> str:
    """One request through the real WSGI handler (with its connection housekeeping)."""
    status, body = serve_page(handler, path, cookie)
    assert body
    return status


def serve_page(
    handler: WSGIHandler, path: str, cookie: str, form: dict[str, str] | None = None
) -> tuple[str, str]:
    """One request through the real WSGI handler: its status line and its page. With
    `form`, a POST of it, its CSRF token the cookie's (as a browser sends a form)."""
    status: list[str] = []
    extra: dict[str, object] = {"REQUEST_METHOD": "GET"}
    if form is not None:
        token = get_random_string(32)
        body = urlencode({**form, "csrfmiddlewaretoken": token}).encode()
        cookie = f"{cookie}; {settings.CSRF_COOKIE_NAME}={token}"
        extra = {
            "REQUEST_METHOD": "POST",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": FakePayload(body),
        }
    environ = RequestFactory()._base_environ(
        PATH_INFO=path, HTTP_COOKIE=cookie, SERVER_NAME="127.0.0.1", **extra
    )
    page = b"".join(handler(environ, lambda s, h, *a: status.append(s)))
    return status[0], page.decode()


def this_database_url() -> str:
    """The test database as a DATABASE_URL, for another process to connect to."""
    db = connection.settings_dict
    login = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{login}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class TerminatesMidRequest:
    """Test only, installed last in MIDDLEWARE: once the request has read its session and
    user (and the middleware above have queried), ends its database session, either
    before the view runs or after it, before the middleware above save and respond."""

    when: str | None = None  # "before the view", "after the view"; reset once done
    user_was_read = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        when, TerminatesMidRequest.when = TerminatesMidRequest.when, None
        if when is None:
            return self.get_response(request)
        TerminatesMidRequest.user_was_read = request.user.is_authenticated
        if when == "before the view":
            terminate_this_connection()
            return self.get_response(request)
        response = self.get_response(request)
        terminate_this_connection()
        return response


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a real server to restart")
def test_a_killed_database_connection_is_replaced_not_a_500(settings):
    from tests.conftest import signed_in_client

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    place = factories.make_place("Restarting place")
    factories.make_person(place)
    client: Client = signed_in_client(factories.make_user(place=place, role=Role.COORDINATOR))
    cookie = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
    handler = WSGIHandler()
    page = at(place, "register:list")
    assert serve(handler, page, cookie).startswith("200")
    # The server restarts: every connection the app held is gone
    terminate_this_connection()
    # The next request notices at its start (CONN_HEALTH_CHECKS) and reconnects
    assert serve(handler, page, cookie).startswith("200")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a real server to restart")
@pytest.mark.parametrize("when", ["before the view", "after the view"])
def test_a_connection_killed_mid_request_gives_the_error_page_and_the_next_is_served(
    settings, when
):
    from tests.conftest import signed_in_client

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "tests.test_faults.TerminatesMidRequest"]
    place = factories.make_place("Failing-over place")
    factories.make_person(place)
    client: Client = signed_in_client(factories.make_user(place=place, role=Role.COORDINATOR))
    cookie = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
    handler = WSGIHandler()
    page = at(place, "register:list")
    TerminatesMidRequest.when = when
    status, body = serve_page(handler, page, cookie)  # raises nothing
    assert TerminatesMidRequest.when is None and TerminatesMidRequest.user_was_read
    if status.startswith("500"):  # the service's own page, not the server's bare one
        assert "Sorry, there is a problem with the service" in body
        assert "Nothing you were saving has been half-saved" in body
    else:
        assert status.startswith("200"), status
    # The dead connection was dropped at the end of that request: the next one is served
    status, body = serve_page(handler, page, cookie)
    assert status.startswith("200"), status
    assert "Failing-over place" in body


class CutsTheWrite:
    """An execute wrapper: ends the connection's database session as a rating's audit event
    goes in (the rating itself already inserted), mid-transaction."""

    cut_in_transaction: bool | None = None

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        rating_event = "INSERT INTO core_auditevent" in sql and "Rating" in (params or ())
        if rating_event and self.cut_in_transaction is None:
            self.cut_in_transaction = connection.in_atomic_block
            terminate_this_connection()
        return execute(sql, params, many, context)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a real server to lose")
def test_a_write_cut_mid_transaction_leaves_nothing_half_written_and_the_next_is_served(
    settings, tmp_path
):
    from tests.conftest import signed_in_client

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    place = factories.make_place("Cut-off place")
    person = factories.make_person(place, rating="G")
    client: Client = signed_in_client(factories.make_user(place=place, role=Role.COORDINATOR))
    cookie = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
    handler = WSGIHandler()
    today = dates.today()
    form = {
        "rating": "R",
        "rationale": "Placement broke down",
        "context": "other",
        "decided_on_day": str(today.day),
        "decided_on_month": str(today.month),
        "decided_on_year": str(today.year),
    }
    ratings = list(Rating.objects.filter(person=person).values_list("pk", flat=True))
    events = AuditEvent.objects.filter(person_id=person.pk, object_type="Rating")
    rated = events.count()  # the initial rating's
    cut = CutsTheWrite()
    with connection.execute_wrapper(cut):
        status, body = serve_page(handler, at(person, "risk:rate"), cookie, form)
    # The service's own page, not the server's bare one
    assert status.startswith("500"), status
    assert "Sorry, there is a problem with the service" in body
    assert "Nothing you were saving has been half-saved" in body
    # The next request is served (the dead connection is replaced at its start)
    status, body = serve_page(handler, at(person, "register:person"), cookie)
    assert status.startswith("200"), status
    # Neither the change nor its audit event, and every chain whole
    assert list(Rating.objects.filter(person=person).values_list("pk", flat=True)) == ratings
    person.refresh_from_db()
    assert person.current_rating == "G" and events.count() == rated
    assert cut.cut_in_transaction is True  # the change's transaction was the one cut
    report = verify()
    assert report.intact, [str(p) for p in report.problems or []]
    # and the same form now goes through
    status, _ = serve_page(handler, at(person, "risk:rate"), cookie, form)
    assert status.startswith("302"), status
    person.refresh_from_db()
    assert person.current_rating == "R" and events.count() == rated + 1
    assert verify().intact


HOLDS_A_CHAIN = (
    "import sys, time\n"
    "from django.db import transaction\n"
    "from dsr.core import audit\n"
    "from dsr.core.models import AuditAction\n"
    "who = audit.Context(actor=None, place_id=int(sys.argv[1]), actor_label='killed worker')\n"
    "with transaction.atomic():\n"
    "    audit.record(context=who, action=AuditAction.VIEWED, object_type='Killed')\n"
    "    print('holding', flush=True)\n"
    "    time.sleep(120)\n"
)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a real server's locks")
def test_a_worker_killed_while_it_holds_a_chain_loses_nothing_and_stops_no_one(settings, tmp_path):
    """A worker killed (kill -9: the worker timeout, the OOM killer) in the middle of a
    change holds its place's chain head. The database ends its transaction as its
    connection drops: the half-made change and its event are gone, the next writer to that
    chain goes straight on, and the chain verifies."""
    import signal
    import subprocess
    import sys

    from dsr.core import audit
    from dsr.core.models import AuditAction
    from tests.test_production import ROOT, python_environment

    settings.AUDIT_CHAIN_LANES = 1  # the killed worker's chain is everyone's in the place
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    place = factories.make_place("Killed worker's place")
    env = python_environment(
        DATABASE_URL=this_database_url(),
        AUDIT_KEYS=",".join(settings.AUDIT_KEYS),
        AUDIT_CHAIN_LANES="1",
    )
    worker = subprocess.Popen(  # noqa: S603 - our own code
        [sys.executable, "-c", "import django; django.setup()\n" + HOLDS_A_CHAIN, str(place.pk)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "holding", worker.stderr.read()
        someone = audit.Context(actor=None, place_id=place.pk, actor_label="another request")
        # While it lives, it holds the head: a writer would wait (here, 200 ms at most)
        with pytest.raises(OperationalError), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            audit.record(context=someone, action=AuditAction.VIEWED, object_type="Waits")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        # Killed: the next writer goes on, and nothing of the killed worker's is there
        with transaction.atomic():
            audit.record(context=someone, action=AuditAction.VIEWED, object_type="Goes on")
    finally:
        worker.kill()
        worker.wait(timeout=10)
    written = set(
        AuditEvent.objects.filter(place_id=place.pk).values_list("object_type", flat=True)
    )
    assert "Goes on" in written and "Killed" not in written
    report = verify()
    assert report.intact, [str(p) for p in report.problems or []]


SHOW_TIMEOUTS = (
    "from django.db import connection\n"
    "with connection.cursor() as cursor:\n"
    "    cursor.execute('SHOW lock_timeout')\n"
    "    lock = cursor.fetchone()[0]\n"
    "    cursor.execute('SHOW statement_timeout')\n"
    "    print(lock, cursor.fetchone()[0])\n"
)


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's settings")
def test_the_apps_connections_wait_on_a_lock_or_a_statement_only_as_long_as_configured():
    """No request waits without bound (ADR 0014): a fresh connection made through Django
    with production settings carries lock_timeout and statement_timeout, as set."""
    from tests.test_deploy import PRODUCTION_ENV
    from tests.test_production import run_python

    production = {
        **PRODUCTION_ENV,
        "DSR_TESTING": "",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": this_database_url(),
    }
    default = run_python(SHOW_TIMEOUTS, **production)
    assert default.stdout.split() == ["5s", "30s"], default.stderr
    chosen = run_python(
        SHOW_TIMEOUTS, **production, DB_LOCK_TIMEOUT_MS="1234", DB_STATEMENT_TIMEOUT_MS="4321"
    )
    assert chosen.stdout.split() == ["1234ms", "4321ms"], chosen.stderr
