"""Our own deployment checks, run by `manage.py check --deploy` (issue 8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connections

DEMO_KEY_PREFIX = "demo:insecure"


@register(Tags.security, deploy=True)
def deployment_checks(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    problems: list[Any] = []
    if settings.DSR_DEMO:
        problems.append(
            Error(
                "DSR_DEMO is on: the second factor is off and every page says the data are "
                "fictional.",
                hint="Demo mode is for `make demo` only. Unset DSR_DEMO.",
                id="dsr.E001",
            )
        )
    keys = [k for k in settings.AUDIT_KEYS if not k.startswith(DEMO_KEY_PREFIX)]
    if not keys or any(len(k.partition(":")[2]) < 32 for k in keys):
        problems.append(
            Error(
                "AUDIT_KEYS needs a key of its own, of at least 32 characters.",
                hint="Set AUDIT_KEYS=id:secret (ADR 0014); keep old keys, before the new one.",
                id="dsr.E002",
            )
        )
    if not settings.EMAIL_TIMEOUT or settings.EMAIL_TIMEOUT > 60:
        problems.append(Warning("EMAIL_TIMEOUT should be set, and short (seconds).", id="dsr.W001"))
    if not str(settings.SITE_URL).startswith("https://"):
        problems.append(
            Warning(
                "SITE_URL is not https://: the links in invitations and set-up emails would"
                " send their one-time tokens over plain HTTP.",
                hint="Set SITE_URL to the service's public https:// address.",
                id="dsr.W003",
            )
        )
    if not settings.DATABASES["default"].get("CONN_HEALTH_CHECKS"):
        problems.append(Warning("CONN_HEALTH_CHECKS should be on.", id="dsr.W002"))
    if not settings.TRUSTED_PROXIES:
        problems.append(
            Warning(
                "TRUSTED_PROXIES is not set: behind a TLS proxy, every request would seem to"
                " come from the proxy, so the sign-in lockout and rate limits would count"
                " everyone as one client, and HTTPS would not be recognised.",
                hint="Set TRUSTED_PROXIES to the proxy's address (docs/deploy.md, section 5).",
                id="dsr.W004",
            )
        )
    if Path(settings.AUDIT_CHECKPOINT_FILE).resolve().is_relative_to(settings.BASE_DIR):
        problems.append(
            Warning(
                "AUDIT_CHECKPOINT_FILE is inside the application's own directory (the"
                " default, var/): checkpoints hold the audit trail to account only where the"
                " database's users cannot write, and a redeploy may remove them.",
                hint="Set AUDIT_CHECKPOINT_FILE to append-only storage (docs/deploy.md, 6).",
                id="dsr.W005",
            )
        )
    if any(host == "*" or host.startswith(".") for host in settings.ALLOWED_HOSTS):
        problems.append(
            Warning(
                "ALLOWED_HOSTS takes any host (or any under a domain): links in the mail the"
                " register sends, and the checks on where a form came from, trust the Host"
                " header a request gives.",
                hint="List the service's own host names (an operator's review).",
                id="dsr.W006",
            )
        )
    return problems


@register(Tags.database, deploy=True)
def database_role_checks(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[Any]:
    """With `check --deploy --database default`: the application's database role must own
    nothing (ADR 0014). As a superuser or the tables' owner it could drop or disable the
    triggers that keep the audit trail append-only."""
    problems: list[Any] = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper OR EXISTS (SELECT FROM pg_tables WHERE tablename = %s"
                " AND pg_has_role(current_user, tableowner, 'USAGE'))"
                " FROM pg_roles WHERE rolname = current_user",
                ["core_auditevent"],
            )
            row = cursor.fetchone()
        if row and row[0]:
            problems.append(
                Warning(
                    f"The application connects to {alias!r} as a superuser or as the owner of"
                    " the audit trail's tables: with its credentials the triggers that keep"
                    " the trail append-only could be dropped or disabled.",
                    hint="Run migrations as the owner, then `grant_app_role` and connect the"
                    " application as that role (docs/deploy.md, section 2).",
                    id="dsr.W006",
                )
            )
    return problems
