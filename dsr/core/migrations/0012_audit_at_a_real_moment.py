"""Audit events carry a real moment (ADR 0037).

On PostgreSQL the check is added NOT VALID, then validated in a statement of its own: adding
it plainly holds an exclusive lock on the trail while every event is read (2.8 s at the
bench's 3.3 million events), and every page, whose read is audited, waits behind it.
Validating takes a lock that lets events go on being written. Hence a migration outside one
transaction; SQLite remakes the table in a transaction of its own.
"""

import datetime

from django.conf import settings
from django.db import migrations, models, transaction

EARLIEST = datetime.datetime(2000, 1, 1, 0, 0, tzinfo=datetime.UTC)
LATEST = datetime.datetime(9000, 1, 1, 0, 0, tzinfo=datetime.UTC)
CONSTRAINT = models.CheckConstraint(
    condition=models.Q(("at__gte", EARLIEST), ("at__lt", LATEST)),
    name="audit_at_a_real_moment",
)


def _with(model, constraints):
    """SQLite remakes the table from the model it is given, and RunPython's is the state
    before (or, going back, after) this migration: it is told which constraints to keep."""
    model._meta.constraints = constraints
    return model


def add(apps, schema_editor):
    model = apps.get_model("core", "AuditEvent")
    if schema_editor.connection.vendor != "postgresql":
        model = _with(model, [*model._meta.constraints, CONSTRAINT])
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.add_constraint(model, CONSTRAINT)
        return
    table = schema_editor.quote_name(model._meta.db_table)
    name = schema_editor.quote_name(CONSTRAINT.name)
    schema_editor.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK (at >= %s AND at < %s) NOT VALID",
        [EARLIEST, LATEST],
    )
    schema_editor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


def remove(apps, schema_editor):
    model = apps.get_model("core", "AuditEvent")
    model = _with(model, [c for c in model._meta.constraints if c.name != CONSTRAINT.name])
    with transaction.atomic(using=schema_editor.connection.alias):
        schema_editor.remove_constraint(model, CONSTRAINT)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("core", "0011_audit_event_fewer_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(add, remove)],
            state_operations=[
                migrations.AddConstraint(model_name="auditevent", constraint=CONSTRAINT)
            ],
        ),
    ]
