"""A fixed cast (healthchecks.io style): one user per role in place A, and a
coordinator of place B who must see nothing of A."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.accounts.middleware import SIGNED_IN_AT
from dsr.core.access import Role
from tests import factories


@pytest.fixture(scope="session", autouse=True)
def _reset_past_the_truncate_triggers():
    """Transactional tests end with Django's flush, a TRUNCATE of every table, which the
    care and audit tables refuse (ADR 0012). The test database, and only it, is reset past
    them: the flush's transaction first sets django-pgtrigger's `pgtrigger.ignore` to the
    TRUNCATE triggers (what `pgtrigger.ignore` does, as a statement of its own: with
    parameters bound on the server, its way of prefixing every statement cannot run).
    Application code never ignores a trigger (tests/core/test_immutability.py)."""
    from django.apps import apps
    from django.db import transaction
    from django.db.backends.postgresql.operations import DatabaseOperations

    ignored = [
        name
        for model in apps.get_models()
        for trigger in getattr(model._meta, "triggers", [])
        if "TRUNCATE" in str(trigger.operation)
        # django-pgtrigger matches either form (its `ignore` sets both)
        for name in (f"{model._meta.db_table}:{trigger.get_pgid(model)}", trigger.get_pgid(model))
    ]
    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):  # type: ignore[no-untyped-def]
        connection = self.connection
        with (
            transaction.atomic(using=connection.alias, savepoint=False),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(ignored) + "}"]
            )
            for sql in sql_list:
                cursor.execute(sql)

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.DSR_DEMO = False
    # Each test's checkpoints in a file of its own: never the shared var/ one.
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit-checkpoints.jsonl")
    # Argon2 is the production hasher (asserted in tests/accounts); MD5 keeps tests quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def place_a(db):
    return factories.make_place("Place A")


@pytest.fixture
def place_b(db):
    return factories.make_place("Place B")


@pytest.fixture
def cast(place_a, place_b):
    """One user per role in place A; `outsider` coordinates place B only."""
    users = {
        role: factories.make_user(place=place_a, role=role, email=f"{role.value}@a.example")
        for role in Role
    }
    users["outsider"] = factories.make_user(
        place=place_b, role=Role.COORDINATOR, email="coord@b.example"
    )
    users["nobody"] = factories.make_user(email="nobody@example.org")
    return users


def signed_in_client(user) -> Client:
    """A client past both factors, as after a real sign-in."""
    import time

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client = Client()
    client.force_login(user, backend="dsr.accounts.backends.SessionUserBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SIGNED_IN_AT] = time.time()
    session.save()
    return client


@pytest.fixture
def client_for(cast):
    clients: dict = {}

    def get(key) -> Client:
        if key not in clients:
            clients[key] = signed_in_client(cast[key])
        return clients[key]

    return get


@pytest.fixture
def coordinator(client_for):
    return client_for(Role.COORDINATOR)


@pytest.fixture
def person_a(place_a):
    return factories.make_person(place_a, given_name="Alice", family_name="Ashby")


@pytest.fixture
def person_b(place_b):
    return factories.make_person(place_b, given_name="Bella", family_name="Brook")
