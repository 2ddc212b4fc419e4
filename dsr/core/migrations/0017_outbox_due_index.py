"""The sender's index: pending messages by when they are next due (ADR 0038).

The outbox keeps every message ever sent, so on PostgreSQL the index is built CONCURRENTLY:
built plainly, it would hold up every transaction that queues mail (reminders, invitations,
transfers, each holding its place's audit chain) until it was done. Hence a migration
outside one transaction, as 0012; SQLite builds it in a transaction of its own.
"""

from django.db import migrations, models, transaction

DUE = models.Index(fields=["status", "next_attempt_at", "id"], name="outbox_due_idx")
OLD = models.Index(fields=["status", "id"], name="outbox_status_idx")


def _swap(apps, schema_editor, add, drop):
    model = apps.get_model("core", "OutgoingEmail")
    if schema_editor.connection.vendor != "postgresql":
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.add_index(model, add)
            schema_editor.remove_index(model, drop)
        return
    table = schema_editor.quote_name(model._meta.db_table)
    columns = ", ".join(schema_editor.quote_name(field) for field in add.fields)
    new, old = schema_editor.quote_name(add.name), schema_editor.quote_name(drop.name)
    # A concurrent build waits for every older transaction in the database (a backup, a
    # long report), holding up no writer meanwhile: the app's lock_timeout and
    # statement_timeout would cancel it, leaving the index invalid (found by a review).
    schema_editor.execute("SET lock_timeout = 0")
    schema_editor.execute("SET statement_timeout = 0")
    try:
        # A concurrent build that failed leaves an invalid index behind: built again on a
        # rerun.
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {new}")
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY {new} ON {table} ({columns})")
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {old}")
    finally:
        schema_editor.execute("RESET lock_timeout")
        schema_editor.execute("RESET statement_timeout")


def forwards(apps, schema_editor):
    _swap(apps, schema_editor, DUE, OLD)


def backwards(apps, schema_editor):
    _swap(apps, schema_editor, OLD, DUE)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("core", "0016_outbox_next_attempt_and_acknowledged"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.RemoveIndex(model_name="outgoingemail", name="outbox_status_idx"),
                migrations.AddIndex(model_name="outgoingemail", index=DUE),
            ],
        ),
    ]
