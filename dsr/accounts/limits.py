"""Per-address limits on the sign-in pages' refusals, so that a flood of attempts cannot fill
the system audit chain or hold up everyone's sign-in behind its head row (ADR 0031).

The lockout (django-axes) keys on an email and an address, so an attacker who varies the
email is never locked out; and set-up links have no lockout at all. Here each client address
(REMOTE_ADDR, the real client behind a trusted proxy: core/proxy.py) may be refused only so
often in a window (django-ratelimit, counted in the database: core/counters.py, ADR 0020);
after that it is answered 429 without anything being checked, and only the first such
answer in the window is audited. Only refusals count: people signing in from one shared
address (a trust's network) use none of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import get_usage

from dsr.accounts import services
from dsr.accounts.models import User


@dataclass(frozen=True)
class Limit:
    group: str  # the counter's name, and what the audit trail says was limited
    setting: str  # the settings name of its rate ("30/10m")
    about: str  # what the page says there were too many of


SIGN_IN = Limit("sign-in failures", "SIGN_IN_FAILURES_RATE", "unsuccessful attempts to sign in")
SET_UP_LINK = Limit(
    "set-up link failures", "SET_UP_LINK_FAILURES_RATE", "attempts to use set-up links"
)


def _usage(request: HttpRequest, group: str, limit: Limit, *, increment: bool) -> Any:
    return get_usage(
        request, group=group, key="ip", rate=getattr(settings, limit.setting), increment=increment
    )


def refused(request: HttpRequest, limit: Limit, *, user: User | None = None) -> HttpResponse | None:
    """The 429 page, if this address has had as many refusals as the window allows; None
    otherwise. Only the first refusal in a window is audited (their own counter, in the
    same window): a flood adds one event, however long it lasts.

    `user`: the account the page is signing in, when the session knows it (the code pages):
    the audited refusal is theirs, so their place's auditors see it (ADR 0031)."""
    usage = _usage(request, limit.group, limit, increment=False)
    if usage is None or usage["count"] < usage["limit"]:
        return None
    turned_away = _usage(request, f"{limit.group} refused", limit, increment=True)
    if turned_away is None or turned_away["count"] == 1:
        services.record_sign_in_failure(
            request=request,
            email="(too many attempts from this address)",
            user=user,
            locked=True,
            step=f"rate limit: {limit.group}",
        )
    minutes = max(1, math.ceil(max(usage["time_left"], 0) / 60))
    return render(
        request,
        "accounts/too_many_attempts.jinja",
        {"about": limit.about, "wait": f"{minutes} minute{'s' if minutes != 1 else ''}"},
        status=429,
    )


def failed(request: HttpRequest, limit: Limit, **event: Any) -> None:
    """A refusal on a sign-in page: counted against this address, then audited
    (services.record_sign_in_failure takes `event`)."""
    _usage(request, limit.group, limit, increment=True)
    services.record_sign_in_failure(request=request, **event)
