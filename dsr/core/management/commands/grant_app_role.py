"""Give the application's database role exactly what it needs, and no more (ADR 0014).

Run by the role that owns the tables (the one that runs migrations), after every migrate:

    DATABASE_URL=postgres://owner@db/dsr  uv run python manage.py migrate
    DATABASE_URL=postgres://owner@db/dsr  uv run python manage.py grant_app_role dsr_app

The application then connects as `dsr_app`, a role that owns nothing: it cannot drop or
disable a trigger, truncate a table, or change the schema; on the audit trail and every
dated record it may only read and add rows; on other care records it may not delete. Nor
may it create temporary tables, which PostgreSQL lets every role do by default: a
temporary table named like the trail's hides the real one from the connection that made
it, so that connection's events would go nowhere anyone checks (found by a review). That
takes the database's owner: run by another role, the command says so and fails.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from dsr.core.models import Refuse


def _refused(model: Any) -> set[str]:
    """The operations a model's triggers refuse outright (not conditionally)."""
    refused: set[str] = set()
    for trigger in getattr(model._meta, "triggers", []):
        if isinstance(trigger, Refuse) and trigger.condition is None:
            refused |= {op.strip() for op in str(trigger.operation).split(" OR ")}
    return refused


def privileges(model: Any) -> list[str]:
    if model._meta.db_table == "django_migrations":
        return ["SELECT"]
    refused = _refused(model)
    return [p for p in ("SELECT", "INSERT", "UPDATE", "DELETE") if p not in refused]


class Command(BaseCommand):
    help = "Grant the application's (owner-less) database role what it needs on every table."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("role")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if connection.vendor != "postgresql":
            raise CommandError("grant_app_role is for PostgreSQL")
        role = connection.ops.quote_name(options["role"])
        tables: dict[str, list[str]] = {"django_migrations": ["SELECT"]}
        for model in apps.get_models(include_auto_created=True):
            tables[model._meta.db_table] = privileges(model)
        existing = set(connection.introspection.table_names())
        with connection.cursor() as cursor:
            cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
            for table, granted in sorted(tables.items()):
                if table in existing:
                    cursor.execute(
                        f"GRANT {', '.join(granted)} ON {connection.ops.quote_name(table)}"
                        f" TO {role}"
                    )
            cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
            cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
            database = connection.ops.quote_name(connection.settings_dict["NAME"])
            for grantee in ("PUBLIC", role):
                cursor.execute(f"REVOKE TEMPORARY ON DATABASE {database} FROM {grantee}")
            cursor.execute(
                "SELECT has_database_privilege(%s, current_database(), 'TEMPORARY')",
                [options["role"]],
            )
            if cursor.fetchone()[0]:
                raise CommandError(
                    f"{options['role']} can still create temporary tables, which could hide"
                    " the audit trail from its own connection: run grant_app_role as the"
                    " database's owner, or REVOKE TEMPORARY ON DATABASE from PUBLIC as it"
                )
        self.stdout.write(f"Granted {options['role']} its privileges on {len(tables)} tables.")
