"""Faults (issue 8): a database restart between requests costs nobody a 500; one in the
middle of a request gives that request the service's own error page (or its page), and the
next request is served."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection  # noqa: F401 - the skipif conditions below read it
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from dsr.core.access import Role
from tests import factories
from tests.helpers import at, terminate_this_connection


def serve(handler: WSGIHandler, path: str, cookie: str) -> str:
    """One request through the real WSGI handler (with its connection housekeeping)."""
    status, body = serve_page(handler, path, cookie)
    assert body
    return status


def serve_page(handler: WSGIHandler, path: str, cookie: str) -> tuple[str, str]:
    """One request through the real WSGI handler: its status line and its page."""
    status: list[str] = []
    environ = RequestFactory()._base_environ(
        PATH_INFO=path, REQUEST_METHOD="GET", HTTP_COOKIE=cookie, SERVER_NAME="127.0.0.1"
    )
    body = b"".join(handler(environ, lambda s, h, *a: status.append(s)))
    return status[0], body.decode()


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
