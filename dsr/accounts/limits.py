"""Per-address limits on the sign-in pages' refusals, so that a flood of attempts cannot fill
the system audit chain or hold up everyone's sign-in behind its head row (ADR 0031).

The lockout (django-axes) keys on an email and an address, so an attacker who varies the
email is never locked out; and set-up links have no lockout at all. Here each client address
(REMOTE_ADDR, the real client behind a trusted proxy: core/proxy.py) may be refused only so
often in a window (django-ratelimit, counted in the database: core/counters.py, ADR 0020);
after that it is answered 429 without anything being checked, and only the first such
answer in the window is audited. Only refusals count: people signing in from one shared
address (a trust's network) use none of it.

One budget is per account instead: passwords that were right (PASSWORDS). Each is an Argon2
hash (about 130 ms and 64 MiB), and nothing else limits them: one phished or insider account
posting its own password in parallel would hold every worker. Only right passwords count, so
nobody without the password can use up someone's budget; the typed email is the key, so
the check comes before the password is hashed.
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
    per_account: bool = False  # counted per account (the email typed), not per address


SIGN_IN = Limit("sign-in failures", "SIGN_IN_FAILURES_RATE", "unsuccessful attempts to sign in")
SET_UP_LINK = Limit(
    "set-up link failures", "SET_UP_LINK_FAILURES_RATE", "attempts to use set-up links"
)
PASSWORDS = Limit(
    "passwords per account",
    "SIGN_IN_PASSWORDS_PER_ACCOUNT_RATE",
    "sign-ins with this account's password",
    per_account=True,
)


def _usage(
    request: HttpRequest, group: str, limit: Limit, *, increment: bool, account: str = ""
) -> Any:
    key: Any = (lambda _group, _request: account) if limit.per_account else "ip"
    return get_usage(
        request, group=group, key=key, rate=getattr(settings, limit.setting), increment=increment
    )


def refused(
    request: HttpRequest, limit: Limit, *, user: User | None = None, account: str = ""
) -> HttpResponse | None:
    """The 429 page, if this address (or for a per-account limit, `account`: the email as
    the sign-in form gives it) has used as much as the window allows; None otherwise. Only
    the first refusal in a window is audited (their own counter, in the same window): a
    flood adds one event, however long it lasts.

    `user`: the account the page is signing in, when the session knows it (the code pages):
    the audited refusal is theirs, so their place's auditors see it (ADR 0031). A
    per-account limit's refusal is its account's."""
    usage = _usage(request, limit.group, limit, increment=False, account=account)
    if usage is None or usage["count"] < usage["limit"]:
        return None
    refusals = f"{limit.group} refused"
    turned_away = _usage(request, refusals, limit, increment=True, account=account)
    if turned_away is None or turned_away["count"] == 1:
        if limit.per_account and user is None:
            user = User.objects.filter(email=account).first()
        services.record_sign_in_failure(
            request=request,
            email=account or "(too many attempts from this address)",
            user=user,
            locked=True,
            step=f"rate limit: {limit.group}",
        )
    minutes = max(1, math.ceil(max(usage["time_left"], 0) / 60))
    return render(
        request,
        "accounts/too_many_attempts.jinja",
        {
            "about": limit.about,
            "wait": f"{minutes} minute{'s' if minutes != 1 else ''}",
            "per_account": limit.per_account,
        },
        status=429,
    )


def succeeded(request: HttpRequest, limit: Limit, *, account: str) -> None:
    """A right password: counted against its account's budget (PASSWORDS). Only right ones
    are, so that nobody without the password can use it up."""
    _usage(request, limit.group, limit, increment=True, account=account)


def failed(request: HttpRequest, limit: Limit, **event: Any) -> None:
    """A refusal on a sign-in page: counted against this address, then audited
    (services.record_sign_in_failure takes `event`)."""
    _usage(request, limit.group, limit, increment=True)
    services.record_sign_in_failure(request=request, **event)
