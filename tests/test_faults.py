"""Faults (issue 8): a database restart between requests costs nobody a 500."""

from __future__ import annotations

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client, RequestFactory

from dsr.core.access import Role
from tests import factories
from tests.helpers import at


def serve(handler: WSGIHandler, path: str, cookie: str) -> str:
    """One request through the real WSGI handler (with its connection housekeeping)."""
    status: list[str] = []
    environ = RequestFactory()._base_environ(
        PATH_INFO=path, REQUEST_METHOD="GET", HTTP_COOKIE=cookie, SERVER_NAME="127.0.0.1"
    )
    body = b"".join(handler(environ, lambda s, h, *a: status.append(s)))
    assert body
    return status[0]


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
    # The next request notices at its start (CONN_HEALTH_CHECKS) and reconnects
    assert serve(handler, page, cookie).startswith("200")
