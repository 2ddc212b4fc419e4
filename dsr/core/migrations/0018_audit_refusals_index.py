"""Sign-in refusals that name no account, indexed for the auditors who search them (ADR 0040).

The audit trail is the largest table, and every audited request writes to it, so on
PostgreSQL the index is built CONCURRENTLY, as 0017's: built plainly it would hold up every
audited request until it was done. SQLite builds it in a transaction of its own.
"""

from django.db import migrations, models, transaction

REFUSALS = models.Index(
    fields=["-id"],
    condition=models.Q(
        ("action__in", ("sign_in_failed", "locked_out")),
        ("actor__isnull", True),
        ("chain", "system"),
    ),
    name="audit_refusals_idx",
)


def forwards(apps, schema_editor):
    model = apps.get_model("core", "AuditEvent")
    if schema_editor.connection.vendor != "postgresql":
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.add_index(model, REFUSALS)
        return
    # As 0017: a concurrent build waits for older transactions without holding up writers,
    # so the app's lock and statement timeouts must not cancel it; a build that failed left
    # an invalid index, built again on a rerun.
    schema_editor.execute("SET lock_timeout = 0")
    schema_editor.execute("SET statement_timeout = 0")
    try:
        schema_editor.execute(
            f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(REFUSALS.name)}"
        )
        schema_editor.add_index(model, REFUSALS, concurrently=True)
    finally:
        schema_editor.execute("RESET lock_timeout")
        schema_editor.execute("RESET statement_timeout")


def backwards(apps, schema_editor):
    model = apps.get_model("core", "AuditEvent")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.remove_index(model, REFUSALS)
        return
    schema_editor.remove_index(model, REFUSALS, concurrently=True)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("core", "0017_outbox_due_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[migrations.AddIndex(model_name="auditevent", index=REFUSALS)],
        ),
    ]
