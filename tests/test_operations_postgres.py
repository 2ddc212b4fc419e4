"""Operations on a real PostgreSQL (skipped on SQLite, run by the PostgreSQL suite):

- a backup taken with pg_dump, restored into a fresh database, passes verify_audit (and a
  restore that lost an event does not);
- two separate app servers (gunicorn, our config) on one database: a session started on one
  works on the other, and the audit chains stay whole under writes through both at once.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.core import chain, dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.core.verify import verify
from dsr.risk.models import SignificantEvent
from tests import factories
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def _params() -> dict[str, str]:
    p = connection.settings_dict
    return {
        "host": p["HOST"] or "127.0.0.1",
        "port": str(p["PORT"] or 5432),
        "user": p["USER"] or "postgres",
        "password": p["PASSWORD"] or "",
        "name": p["NAME"],
    }


def _url(name: str) -> str:
    p = _params()
    secret = f":{p['password']}" if p["password"] else ""
    return f"postgres://{p['user']}{secret}@{p['host']}:{p['port']}/{name}"


def _app_env(database: str, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DSR_", "DATABASE_URL"))}
    env.update(
        {
            "DSR_TESTING": "1",
            "DATABASE_URL": _url(database),
            "AUDIT_KEYS": ",".join(django_settings.AUDIT_KEYS),
            "ALLOWED_HOSTS": "127.0.0.1",
            **more,
        }
    )
    return env


@contextmanager
def admin_connection() -> Iterator[psycopg.Connection]:
    p = _params()
    with psycopg.connect(
        host=p["host"],
        port=p["port"],
        user=p["user"],
        password=p["password"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        yield conn


# --- Backup and restore ------------------------------------------------------------------


def _verify_audit(database: str, checkpoints: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "verify_audit"],
        cwd=ROOT,
        env=_app_env(database, AUDIT_CHECKPOINT_FILE=str(checkpoints)),
        capture_output=True,
        text=True,
    )


def test_a_pg_dump_restored_into_a_fresh_database_passes_verify_audit(tmp_path, settings):
    # Given a register with care data and its audit trail, checkpointed outside the database
    place = factories.make_place("Backed-up place")
    for _ in range(3):
        factories.make_person(place)
    checkpoints = tmp_path / "checkpoints.jsonl"
    settings.AUDIT_CHECKPOINT_FILE = str(checkpoints)
    from django.core.management import call_command

    call_command("checkpoint_audit")
    events = AuditEvent.objects.count()

    # When it is backed up with pg_dump and restored into a fresh database
    p = _params()
    dump = tmp_path / "dsr.dump"
    pg_env = {**os.environ, "PGPASSWORD": p["password"]}
    base = ["-h", p["host"], "-p", p["port"], "-U", p["user"]]
    subprocess.run(  # noqa: S603
        ["pg_dump", "--format=custom", *base, "-f", str(dump), p["name"]], env=pg_env, check=True
    )
    fresh = f"{p['name']}_restored"
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        admin.execute(f'CREATE DATABASE "{fresh}"')
    try:
        subprocess.run(  # noqa: S603
            ["pg_restore", "--no-owner", *base, "-d", fresh, str(dump)], env=pg_env, check=True
        )

        # Then verify_audit passes on the restored copy, against the checkpoints
        result = _verify_audit(fresh, checkpoints)
        assert result.returncode == 0, result.stderr
        assert f"Audit trail intact: {events} events" in result.stdout

        # And a restore that lost its last event would not pass
        with psycopg.connect(_url(fresh), autocommit=True) as restored:
            restored.execute("SET session_replication_role = replica")  # past the triggers
            restored.execute(
                "DELETE FROM core_auditevent WHERE id = (SELECT max(id) FROM core_auditevent)"
            )
        broken = _verify_audit(fresh, checkpoints)
        assert broken.returncode != 0 and "last events were deleted" in broken.stderr
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


# --- Two app servers -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def app_server(tmp_path: Path, name: str) -> Iterator[str]:
    """gunicorn with our config file, on its own port and control socket."""
    port = _free_port()
    log = (tmp_path / f"{name}.log").open("wb")
    env = _app_env(
        _params()["name"],
        PORT=str(port),
        WEB_CONCURRENCY="2",
        GUNICORN_CONTROL_SOCKET=str(tmp_path / f"{name}.ctl"),
        AUDIT_CHECKPOINT_FILE=str(tmp_path / "checkpoints.jsonl"),
    )
    process = subprocess.Popen(  # noqa: S603 - our own server
        [sys.executable, "-m", "gunicorn", "-c", "dsr/config/gunicorn.py"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / f"{name}.log").read_text()[-2000:]
            try:
                if requests.get(f"{base}/health/", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass  # not listening yet, or a worker still starting on a busy machine
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _token(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def test_two_app_servers_share_sessions_and_keep_the_audit_chains_whole(tmp_path, settings):
    # Given a coordinator with a password (hashed as the servers hash) and an authenticator
    settings.PASSWORD_HASHERS = ["dsr.accounts.hashers.Argon2idHasher"]
    place = factories.make_place("Scaled place")
    people = [factories.make_person(place) for _ in range(4)]
    user = factories.make_user(place=place, role=Role.COORDINATOR, email="two@servers.example")
    device = TOTPDevice.objects.create(user=user, name="app", confirmed=True)

    with app_server(tmp_path, "a") as a, app_server(tmp_path, "b") as b:
        # When they sign in on server A
        browser = requests.Session()
        page = browser.get(f"{a}/sign-in/", timeout=10).text
        browser.post(
            f"{a}/sign-in/",
            {"csrfmiddlewaretoken": _token(page), "email": user.email, "password": PASSWORD},
            timeout=30,
        )
        page = browser.get(f"{a}/sign-in/code/", timeout=10).text
        code = f"{TOTP(device.bin_key).token():06d}"
        signed_in = browser.post(
            f"{a}/sign-in/code/", {"csrfmiddlewaretoken": _token(page), "code": code}, timeout=10
        )
        assert signed_in.status_code == 200 and "/sign-in/" not in signed_in.url

        # Then the session works on server B
        register = browser.get(f"{b}/places/{place.pk}/people/", timeout=10)
        assert register.status_code == 200 and register.url.endswith("/people/")
        assert people[0].family_name.upper() in register.text

        # And writes through both servers at once leave every chain whole
        form = browser.get(f"{b}/places/{place.pk}/people/{people[0].pk}/events/new/", timeout=10)
        token = _token(form.text)
        day = dates.today()

        def log_event(index: int) -> int:
            server = (a, b)[index % 2]
            person = people[index % len(people)]
            response = browser.post(
                f"{server}/places/{place.pk}/people/{person.pk}/events/new/",
                {
                    "csrfmiddlewaretoken": token,
                    "kind": "other",
                    "occurred_on_day": str(day.day),
                    "occurred_on_month": str(day.month),
                    "occurred_on_year": str(day.year),
                    "description": f"written through server {index % 2}",
                },
                timeout=30,
                allow_redirects=False,
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = list(pool.map(log_event, range(24)))
        assert statuses == [302] * 24

    assert SignificantEvent.objects.count() == 24
    report = verify(tmp_path / "checkpoints.jsonl")
    assert report.intact, report.problems
    created = AuditEvent.objects.filter(action="created", object_type="SignificantEvent")
    assert created.count() == 24
    positions = set(created.values_list("chain", "seq"))
    assert len(positions) == 24  # one position each in one of the place's chains (its lanes)
    assert all(chain.belongs(key, place.pk) for key, _ in positions)


def test_a_statement_run_again_on_a_connection_is_parsed_and_planned_once_for_it():
    """DB_PREPARE_THRESHOLD (default 2): parameters go apart from the statement, and one the
    connection has run twice is kept prepared, whatever the parameters (docs/deploy.md)."""
    from dsr.people.models import Person

    place = factories.make_place()
    people = [factories.make_person(place) for _ in range(3)]
    for person in people:  # three people: the same statement with three parameters
        assert Person.objects.filter(pk=person.pk).count() == 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['SELECT COUNT(*) AS "__count" FROM "people_person" WHERE "people_person"."id" = $1'],
        )
        assert cursor.fetchone()[0] == 1
