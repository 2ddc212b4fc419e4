"""The application can run as a database role that owns nothing (ADR 0014), so not even
the application's own credentials can disable a trigger, truncate the trail or rewrite it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from dsr.core.guards import Guard
from dsr.core.management.commands.grant_app_role import privileges
from dsr.core.models import AuditEvent
from dsr.people.models import Person
from dsr.risk.models import Rating

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="database roles are PostgreSQL's"
)
ROLE = "dsr_app_test"


def test_dated_records_are_read_and_added_only_and_care_records_never_deleted():
    assert privileges(AuditEvent) == ["SELECT", "INSERT"]
    assert privileges(Rating) == ["SELECT", "INSERT"]
    assert privileges(Person) == ["SELECT", "INSERT", "UPDATE"]


@pytest.fixture
def app_role(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP ROLE IF EXISTS {ROLE}")
        cursor.execute(f"CREATE ROLE {ROLE} LOGIN")
    call_command("grant_app_role", ROLE)
    settings = connection.settings_dict
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    yield f"postgresql://{ROLE}@{host}:{port}/{settings['NAME']}"
    with connection.cursor() as cursor:
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLE}")
        cursor.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}")
        cursor.execute(f"REVOKE ALL ON SCHEMA public FROM {ROLE}")
        cursor.execute(f"DROP ROLE IF EXISTS {ROLE}")


def test_the_application_runs_as_a_role_that_owns_nothing(app_role, settings):
    # The app works as that role: the demo is written through the services, and verified
    # (against this test's own checkpoints: the checkout's var/ keeps those of earlier runs,
    # whose chains this test database does not have)
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DATABASE_URL": app_role,
        "DSR_TESTING": "1",
        "AUDIT_CHECKPOINT_FILE": settings.AUDIT_CHECKPOINT_FILE,
    }
    for command in (["load_demo"], ["verify_audit"]):
        result = subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", *command],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr

    # And with its credentials the trail cannot be changed, emptied or unguarded
    refused = [
        "UPDATE core_auditevent SET actor_label = 'x'",
        "DELETE FROM core_auditevent",
        "TRUNCATE core_auditevent CASCADE",
        "ALTER TABLE core_auditevent DISABLE TRIGGER ALL",
        f"DROP TRIGGER {AuditEvent._meta.triggers[0].get_pgid(AuditEvent)} ON core_auditevent",
        "UPDATE risk_rating SET rationale = 'rewritten'",
        "DELETE FROM people_person",
        "UPDATE core_auditchain SET length = 0",
        # a temporary table of the same name would hide the trail from this connection
        "CREATE TEMP TABLE core_auditevent (LIKE public.core_auditevent INCLUDING ALL)",
    ]
    with psycopg.connect(app_role, autocommit=True) as conn:
        # django-pgtrigger's escape hatch is open to any session: set to every trigger, as
        # an attacker with these credentials would. The privileges hold, and so do the
        # guards on what the role may update (core/guards.py: found by an attack, which
        # wound a chain's head back this way)
        every = "{" + ",".join(all_triggers()) + "}"
        conn.execute("SELECT set_config('pgtrigger.ignore', %s, false)", [every])
        for statement in refused:
            with pytest.raises(
                psycopg.errors.InsufficientPrivilege, match="denied|owner|refused|temporary"
            ):
                conn.execute(statement)
        assert conn.execute("SELECT count(*) FROM core_auditevent").fetchone()[0] > 0
        # a record's place is still held to its person's
        with pytest.raises(psycopg.errors.CheckViolation, match="person's place"):
            conn.execute(
                "UPDATE actions_action SET place_id = (SELECT max(id) FROM places_place)"
                " WHERE place_id <> (SELECT max(id) FROM places_place)"
            )


def test_check_deploy_warns_when_the_application_connects_as_the_tables_owner(app_role):
    root = Path(__file__).resolve().parents[2]
    settings = connection.settings_dict
    host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
    owner = f"postgresql://{settings['USER']}@{host}:{port}/{settings['NAME']}"
    found = {}
    for who, url in [("owner", owner), ("app", app_role)]:
        result = subprocess.run(  # noqa: S603 - our own manage.py
            [sys.executable, "manage.py", "check", "--deploy", "--database", "default"],
            cwd=root,
            env={**os.environ, "DATABASE_URL": url, "DSR_TESTING": "1"},
            capture_output=True,
            text=True,
            check=False,
        )
        found[who] = "dsr.W006" in result.stdout + result.stderr
    assert found == {"owner": True, "app": False}


def all_triggers() -> list[str]:
    """Every trigger of ours, in both the forms django-pgtrigger's `pgtrigger.ignore` takes."""
    return [
        name
        for model in apps.get_models()
        for trigger in getattr(model._meta, "triggers", [])
        for name in (f"{model._meta.db_table}:{trigger.get_pgid(model)}", trigger.get_pgid(model))
    ]


def test_no_trigger_guarding_what_the_application_may_do_can_be_switched_off():
    """A trigger that refuses (or checks) an operation the application's role is granted
    must be a Guard, compiled without django-pgtrigger's check of `pgtrigger.ignore`. One
    that refuses an operation never granted (a delete, a truncate) may stay ignorable: the
    role cannot try it at all, and the tests' flush needs to."""
    for model in apps.get_models():
        granted = set(privileges(model))
        for trigger in getattr(model._meta, "triggers", []):
            operations = {op.strip() for op in str(trigger.operation).split(" OR ")}
            sql = str(trigger.compile(model).sql)
            if operations & granted:
                assert isinstance(trigger, Guard), (model, trigger.name)
                assert "pgtrigger.ignore" not in sql and "should_ignore" not in sql
            else:
                assert "should_ignore" in sql  # the flush's way past it
