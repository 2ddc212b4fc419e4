"""Our own deployment checks, run by `manage.py check --deploy` (issue 8)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

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
                hint="Set AUDIT_KEYS=id:secret (ADR 0014); keep old keys listed after them.",
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
    return problems
