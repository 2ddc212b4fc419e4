"""Production settings: `check --deploy` clean, strict headers on every page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from dsr.core.access import Role
from tests.helpers import at

PRODUCTION_ENV = {
    "SECRET_KEY": "a-real-looking-production-secret-" + "k" * 40,
    "ALLOWED_HOSTS": "dsr.example.nhs.uk",
    "DATABASE_URL": "sqlite:////tmp/dsr-deploy-check.sqlite3",
    "AUDIT_KEYS": "2026:a-real-looking-audit-key-" + "a" * 40,
    "SITE_URL": "https://dsr.example.nhs.uk",
    "TRUSTED_PROXIES": "10.0.0.5",
    "AUDIT_CHECKPOINT_FILE": "/var/lib/dsr-checkpoints/audit-checkpoints.jsonl",
}


def _manage(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DSR_", "DEBUG"))}
    env.update(extra_env if extra_env is not None else PRODUCTION_ENV)
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", *args], env=env, capture_output=True, text=True, check=False
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_an_audit_key():
    result = _manage("check", extra_env={**PRODUCTION_ENV, "AUDIT_KEYS": ""})
    assert result.returncode != 0
    assert "AUDIT_KEYS must be set" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage("check", extra_env={"ALLOWED_HOSTS": "x"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_every_page_carries_a_strict_content_security_policy_and_no_store(client_for, person_a):
    client = client_for(Role.COORDINATOR)
    for url in [
        reverse("accounts:sign_in"),
        at(person_a.place, "register:list"),
        at(person_a, "register:person"),
    ]:
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response["Cache-Control"] == "no-store"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script(client_for, person_a):
    import re

    client = client_for(Role.COORDINATOR)
    body = client.get(at(person_a, "register:person")).content.decode()
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", body, re.S)
    assert scripts and all(s.strip() == "" for s in scripts)
    assert " on" + "click=" not in body and "style=" not in body


def test_production_settings_send_hsts_and_secure_cookies():
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.DEBUG)",
    )
    assert result.stdout.strip().splitlines()[-1].split() == [
        "63072000",
        "True",
        "True",
        "True",
        "False",
    ]


def test_make_demo_serves_on_the_port_asked_for():
    root = Path(__file__).resolve().parents[1]
    quiet = {k: v for k, v in os.environ.items() if k != "PORT"}
    for command, env in [
        (["make", "-n", "demo", "PORT=8001"], quiet),
        (["make", "-n", "demo"], {**quiet, "PORT": "8001"}),
    ]:
        result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        assert "runserver 127.0.0.1:8001" in result.stdout, result.stdout + result.stderr


def test_no_page_loads_a_font_from_another_host_by_default(client_for, person_a):
    body = client_for(Role.COORDINATOR).get(at(person_a, "register:person")).content.decode()
    assert "nhsuk-fonts.css" not in body
    response = client_for(Role.COORDINATOR).get(at(person_a, "register:person"))
    assert "assets.nhs.uk" not in response["Content-Security-Policy"]
    css = (
        Path(__file__).resolve().parents[1] / "dsr" / "static" / "nhsuk" / "nhsuk-frontend.min.css"
    )
    assert "assets.nhs.uk" not in css.read_text()


def test_flash_messages_naming_a_child_never_travel_in_a_cookie(coordinator, place_a):
    from tests.people.test_views import form_data

    response = coordinator.post(at(place_a, "register:add"), form_data(given_name="Secretname"))
    assert response.status_code == 302
    assert "messages" not in response.cookies
    assert "Secretname" in coordinator.get(response["Location"]).content.decode()


def test_check_deploy_refuses_demo_mode_a_weak_audit_key_and_plain_http_links():
    for env, problem in [
        ({**PRODUCTION_ENV, "DSR_DEMO": "1"}, "dsr.E001"),
        ({**PRODUCTION_ENV, "AUDIT_KEYS": "k:short"}, "dsr.E002"),
        ({**PRODUCTION_ENV, "SITE_URL": "http://dsr.example.nhs.uk"}, "dsr.W003"),
        ({**PRODUCTION_ENV, "TRUSTED_PROXIES": ""}, "dsr.W004"),
        ({**PRODUCTION_ENV, "AUDIT_CHECKPOINT_FILE": ""}, "dsr.W005"),  # var/, the default
        ({**PRODUCTION_ENV, "ALLOWED_HOSTS": "*"}, "dsr.W006"),
        ({**PRODUCTION_ENV, "ALLOWED_HOSTS": ".nhs.uk"}, "dsr.W006"),
    ]:
        result = _manage("check", "--deploy", "--fail-level", "WARNING", extra_env=env)
        assert result.returncode != 0 and problem in result.stderr, result.stderr


def test_check_deploy_warns_of_a_mail_server_waited_on_without_bound_and_stale_connections(
    settings, monkeypatch
):
    from dsr.core import checks

    def ids() -> set[str]:
        return {problem.id for problem in checks.deployment_checks()}

    assert not {"dsr.W001", "dsr.W002"} & ids()
    for timeout in (None, 0, 300):
        settings.EMAIL_TIMEOUT = timeout
        assert "dsr.W001" in ids(), timeout
    settings.EMAIL_TIMEOUT = 10
    monkeypatch.setitem(settings.DATABASES["default"], "CONN_HEALTH_CHECKS", False)
    assert ids() & {"dsr.W001", "dsr.W002"} == {"dsr.W002"}


def _serve(**settings: str) -> subprocess.CompletedProcess:
    """The served application loaded with these settings, as gunicorn loads it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DSR_", "DEBUG"))}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import dsr.config.wsgi"],
        env={**env, **settings},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_served_application_refuses_to_start_in_demo_mode():
    result = _serve(**PRODUCTION_ENV, DSR_DEMO="1")
    assert result.returncode != 0 and "demo mode is never served" in result.stderr


def test_the_served_application_refuses_to_start_in_debug_mode():
    """An operator's review: DEBUG=1 without SECRET_KEY and AUDIT_KEYS served, healthy, with
    the public demo secret and audit key, Django's debug pages and cookies without Secure."""
    result = _serve(DEBUG="1", ALLOWED_HOSTS="x", DATABASE_URL="sqlite:///:memory:")
    assert result.returncode != 0 and "debug mode is never served" in result.stderr


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        ("k1", "AUDIT_KEYS entries are id:secret"),
        (":" + "a" * 40, "AUDIT_KEYS entries are id:secret"),
        ("2026:" + "a" * 40 + ",2026:" + "b" * 40, "AUDIT_KEYS names a key id twice"),
    ],
    ids=["no secret", "no id", "an id twice"],
)
def test_production_refuses_to_start_with_audit_keys_it_cannot_use(keys, said):
    """An operator's review: "k1" started, healthy, and every audited page was a 500; an id
    given twice signed events that no list of keys could verify afterwards."""
    result = _manage("check", extra_env={**PRODUCTION_ENV, "AUDIT_KEYS": keys})
    assert result.returncode != 0 and said in result.stderr


def test_the_development_server_runs_in_demo_mode():
    """`make demo` runs Django's development server, which loads WSGI_APPLICATION: that one
    must start in demo mode, though gunicorn's (above) refuses to."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DSR_", "DEBUG"))}
    env.update({"DSR_DEMO": "1", "DATABASE_URL": "sqlite:///:memory:"})
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from django.core.servers.basehttp import get_internal_wsgi_application as app; "
            "app()",
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "dsr.config.settings"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def signed_in_request_in_a_place(name: str = "Erring place"):
    """A signed-in coordinator's request in their place: through the real middleware, then
    into the place as a place's views enter it. Its layout counts the user's work in the
    navigation: a database read."""
    from dsr.core.access import enter_place
    from tests import factories
    from tests.conftest import signed_in_client

    place = factories.make_place(name)
    client = signed_in_client(factories.make_user(place=place, role=Role.COORDINATOR))
    request = client.get(at(place, "register:list") + "no-such-page/").wsgi_request
    assert request.user.is_authenticated
    enter_place(request, place.pk)
    return request


def test_the_error_page_needs_no_database(db):
    """When the database fails, the 500 page must still render: it reads nothing, even for
    a signed-in user whose other pages' navigation reads the database."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dsr.core.views import page_not_found, server_error

    request = signed_in_request_in_a_place()
    with CaptureQueriesContext(connection) as queries:
        response = server_error(request)
    assert response.status_code == 500 and queries.captured_queries == []
    assert "Sorry, there is a problem with the service" in response.content.decode()
    with CaptureQueriesContext(connection) as queries:
        full = page_not_found(request)  # the same request, in the full layout
    assert queries.captured_queries and "My work (" in full.content.decode()


def _handlers():
    from dsr.core import views

    return [
        (lambda r: views.bad_request(r, Exception()), 400, "problem with that request"),
        (lambda r: views.permission_denied(r, Exception()), 403, "You cannot do that here"),
        (lambda r: views.csrf_failure(r, reason="CSRF token missing"), 403, "The form had expired"),
        (lambda r: views.page_not_found(r, Exception()), 404, "Page not found"),
    ]


@pytest.mark.django_db(transaction=True)  # PostgreSQL: the test's connection is cut
@pytest.mark.parametrize("case", range(4), ids=["400", "403", "403 csrf", "404"])
def test_the_400_403_and_404_pages_render_when_the_database_is_unreachable(case):
    """They show the full layout (the user's navigation, read from the database) when they
    can, and the same message in the NHS.UK page without it when the database is gone:
    a fault must not turn a 404 into a crash."""
    from tests.helpers import database_unreachable

    handler, status, message = _handlers()[case]
    full = handler(signed_in_request_in_a_place())
    assert full.status_code == status and message in full.content.decode()
    assert "My work (" in full.content.decode()
    request = signed_in_request_in_a_place("Unreachable place")
    with database_unreachable():
        response = handler(request)
    body = response.content.decode()
    assert response.status_code == status and message in body
    assert "nhsuk-header" in body and "nhsuk-footer" in body and "My work (" not in body


def test_production_refuses_to_start_signing_with_a_key_it_does_not_hold():
    result = _manage("check", extra_env={**PRODUCTION_ENV, "AUDIT_SIGNING_KEY": "2027"})
    assert result.returncode != 0
    assert "AUDIT_SIGNING_KEY '2027' is not an id in AUDIT_KEYS" in result.stderr
    assert (
        _manage("check", extra_env={**PRODUCTION_ENV, "AUDIT_SIGNING_KEY": "2026"}).returncode == 0
    )


def test_a_bad_host_and_a_missing_slash_get_a_page_with_every_header(db):
    """A review: a request naming another host was a 500 (the 400 page read the user,
    whom the refusal came before), and it and the redirect adding a slash went without
    the CSP, frame and cache headers, which were added inside the middleware refusing them."""
    from django.test import Client

    client = Client(raise_request_exception=False)
    bad_host = client.get(reverse("accounts:sign_in"), HTTP_HOST="evil.example")
    slash = client.get(reverse("accounts:sign_in").rstrip("/"))
    assert (bad_host.status_code, slash.status_code) == (400, 301)
    assert "there is a problem with that request" in bad_host.content.decode()
    for response in (bad_host, slash):
        for header in ("Content-Security-Policy", "X-Frame-Options", "Cache-Control"):
            assert response.has_header(header), (response.status_code, header)
