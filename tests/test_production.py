"""Running it in production: the health check, JSON logs without care data, static files
collected once with hashed names, gunicorn's settings, housekeeping."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from dsr.core.access import Role, Rule
from dsr.core.logs import JsonFormatter
from tests.core.test_access import walk
from tests.helpers import at

ROOT = Path(__file__).resolve().parents[1]


def python_environment(**env: str) -> dict[str, str]:
    """This process's environment for a fresh interpreter with the app's test settings,
    none of our own variables carried over but those given."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DSR_", "DATABASE_URL"))}
    ours = {"DSR_TESTING": "1", "DJANGO_SETTINGS_MODULE": "dsr.config.settings"}
    return base | ours | {"ALLOWED_HOSTS": "testserver", **env}


def run_python(code: str, timeout: float | None = None, **env: str) -> subprocess.CompletedProcess:
    """Code in a fresh interpreter with the app's settings and the given environment
    (`timeout`: a hang is a failure, not a run that never ends)."""
    script = "import django; django.setup()\n" + code
    return subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=python_environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


HEALTH = (
    "from django.test import Client\n"
    "r = Client().get('/health/')\n"
    "print(r.status_code, r.content.decode())\n"
)


def test_postgresql_binds_parameters_on_the_server_unless_turned_off():
    show = (
        "from django.conf import settings\n"
        "o = settings.DATABASES['default']['OPTIONS']\n"
        "print(o.get('server_side_binding'), o.get('prepare_threshold'))\n"
    )
    url = "postgres://dsr@127.0.0.1:1/dsr"  # settings only: nothing connects
    assert run_python(show, DATABASE_URL=url).stdout.split() == ["True", "2"]
    off = run_python(show, DATABASE_URL=url, DB_PREPARE_THRESHOLD="0")
    assert off.stdout.split() == ["None", "None"], off.stderr


# --- Health ---------------------------------------------------------------------------------


def test_health_is_ok_when_the_database_answers_and_every_migration_is_applied(client, db):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "applied"}


def test_health_is_unavailable_while_migrations_are_pending(tmp_path):
    result = run_python(HEALTH, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503" and json.loads(body)["migrations"] == "pending", result.stderr


def test_health_is_unavailable_when_the_database_is_unreachable():
    result = run_python(HEALTH, DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing")
    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503" and json.loads(body)["database"] == "unreachable", result.stderr


def test_health_is_unavailable_when_the_database_takes_the_connection_and_never_answers():
    """No connect timeout: every page and /health/ waited for the worker to be killed."""
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        result = run_python(
            HEALTH,
            DATABASE_URL=f"postgres://nobody@127.0.0.1:{port}/nothing",
            DB_CONNECT_TIMEOUT_S="1",
            timeout=120,
        )
    status, body = result.stdout.strip().split(" ", 1)
    assert status == "503" and json.loads(body)["database"] == "unreachable", result.stderr


def test_health_is_a_public_route_that_writes_nothing(client, db):
    from dsr.core.models import AuditEvent

    rule = next(e.callback.access_rule for _r, n, e in walk() if n == "health")
    assert rule is Rule.PUBLIC
    client.get(reverse("health"))
    assert not AuditEvent.objects.exists()
    assert "sessionid" not in client.cookies


# --- Logs -----------------------------------------------------------------------------------


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def access_log():
    handler = Lines()
    logger = logging.getLogger("dsr.access")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_each_request_is_logged_as_json_with_its_request_id_and_no_search_terms(
    access_log, client_for, place_a
):
    response = client_for(Role.COORDINATOR).get(
        at(place_a, "register:list"), {"q": "Secretname 9991234567"}
    )
    entry = json.loads(access_log.lines[-1])
    assert entry["request_id"] == response["X-Request-Id"]
    assert entry["path"] == at(place_a, "register:list")
    assert (entry["status"], entry["place_id"]) == (200, place_a.pk)
    assert "Secretname" not in access_log.lines[-1] and "9991234567" not in access_log.lines[-1]


@pytest.mark.parametrize("suffix", ["/", "", "/?utm=1"])
def test_a_set_up_links_token_never_reaches_the_log(access_log, client, db, suffix):
    """Whoever could read the access log could finish setting up an invited account from it
    (found by a review): the path is logged without the token, and so is Django's own
    line about a link that is not found."""
    from dsr.core.logs import JsonFormatter

    token = "s_S4D7secret-token-OCY"
    path = reverse("accounts:setup_link", args=[token]).rstrip("/") + suffix
    client.get(path)
    assert access_log.lines and all(token not in line for line in access_log.lines)
    assert json.loads(access_log.lines[-1])["path"].startswith("/sign-in/set-up/…")
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (path,), None
    )
    assert token not in JsonFormatter().format(record)


def test_an_exception_is_logged_by_its_type_and_place_never_its_message():
    try:
        raise IntegrityError("duplicate key: Key (nhs_number)=(9991234567) already exists")
    except IntegrityError:
        record = logging.getLogger("django.request").makeRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: %s",
            ("/x/?q=Alice",),
            sys.exc_info(),
        )
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["exception"] == "IntegrityError" and entry["raised_at"]
    assert "9991234567" not in line and "Alice" not in line


# --- Static files ---------------------------------------------------------------------------


def test_static_files_are_collected_once_with_hashed_names_and_cached_for_a_year(tmp_path):
    env = {"DSR_COLLECTED_STATIC": "1", "STATIC_ROOT": str(tmp_path), "ALLOWED_HOSTS": "testserver"}
    collected = run_python(
        "from django.core.management import call_command\n"
        "call_command('collectstatic', '--noinput', verbosity=0)\n",
        **env,
    )
    assert collected.returncode == 0, collected.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    hashed_js = manifest["app/app.js"]
    assert hashed_js != "app/app.js"
    assert manifest["nhsuk/nhsuk-frontend.min.js"] in (tmp_path / hashed_js).read_text()
    served = run_python(
        "from django.test import Client\n"
        f"r = Client().get('/assets/{hashed_js}')\n"
        "print(r.status_code, r['Cache-Control'])\n"
        "page = Client().get('/sign-in/').content.decode()\n"
        f"print('{hashed_js}' in page)\n",
        **env,
    )
    lines = served.stdout.strip().splitlines()
    assert lines[0].startswith("200") and "max-age=315360000" in lines[0], served.stderr
    assert "immutable" in lines[0] and lines[1] == "True"


# --- gunicorn -------------------------------------------------------------------------------


def test_gunicorn_takes_its_workers_from_the_cores_and_a_control_socket_per_instance():
    code = (
        "import importlib.util, os\n"
        "spec = importlib.util.spec_from_file_location('g', 'dsr/config/gunicorn.py')\n"
        "g = importlib.util.module_from_spec(spec); spec.loader.exec_module(g)\n"
        "print(g.workers, os.cpu_count() * 2 + 1, g.control_socket, g.timeout > 30)\n"
    )
    first = run_python(code, PORT="8101").stdout.split()
    second = run_python(code, PORT="8102").stdout.split()
    assert first[0] == first[1] and first[3] == "True"
    assert first[2] != second[2] and first[2].endswith("gunicorn-8101.ctl")


# --- Housekeeping ---------------------------------------------------------------------------


def test_housekeeping_forgets_expired_sessions_and_old_lockout_records(
    db, cast, settings, tmp_path
):
    from axes.models import AccessAttempt

    from dsr.accounts.models import UserSession

    UserSession.objects.create(
        session_key="old", session_data="", expire_date=timezone.now() - timedelta(minutes=1)
    )
    UserSession.objects.create(
        session_key="live", session_data="", expire_date=timezone.now() + timedelta(minutes=10)
    )
    old = AccessAttempt.objects.create(
        username="a", ip_address="127.0.0.1", failures_since_start=1, user_agent="", path_info="/"
    )
    AccessAttempt.objects.filter(pk=old.pk).update(attempt_time=timezone.now() - timedelta(days=91))
    AccessAttempt.objects.create(
        username="b", ip_address="127.0.0.1", failures_since_start=1, user_agent="", path_info="/"
    )
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "checkpoints.jsonl")
    call_command("housekeeping")
    assert (tmp_path / "checkpoints.jsonl").exists()
    assert list(UserSession.objects.values_list("session_key", flat=True)) == ["live"]
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["b"]
