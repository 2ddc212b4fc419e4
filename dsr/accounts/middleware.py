"""Session lifetimes: 15 minutes idle, 10 hours absolute (ADR 0006).

The idle expiry is renewed at most once a minute rather than on every request: the
renewal is a database write, and a minute's slack on a 15-minute timeout costs nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "dsr_signed_in_at"
RENEWED_AT = "dsr_renewed_at"
RENEW_EVERY_SECONDS = 60


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.get(SIGNED_IN_AT)
            if started is None or now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
            elif now - request.session.get(RENEWED_AT, 0) > RENEW_EVERY_SECONDS:
                request.session[RENEWED_AT] = now  # saving the session renews its expiry
        return self.get_response(request)
