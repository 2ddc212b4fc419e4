"""Request id and the security headers every response carries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from dsr.core.logs import request_id

NHS_FONT_HOST = "https://assets.nhs.uk"


def content_security_policy(*, nhs_fonts: bool, sign_in_with: tuple[str, ...] = ()) -> str:
    """No inline script or style anywhere: everything is served from 'self'. NHS.UK's font
    host is allowed for fonts only when the place turns its fonts on (DSR_NHS_FONTS). A
    form may lead only to us, and to the NHS identity providers configured (the NHS sign-in
    button's form is redirected to the provider, and browsers hold redirects to form-action)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"font-src 'self' {NHS_FONT_HOST}" if nhs_fonts else "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            " ".join(["form-action 'self'", *sign_in_with]),
            "frame-ancestors 'none'",
        ]
    )


def _providers() -> tuple[str, ...]:
    """The origins of the configured identity providers (settings.OIDC_PROVIDERS)."""
    found = []
    for config in getattr(settings, "OIDC_PROVIDERS", {}).values():
        parts = urlsplit(str(config.get("issuer", "")))
        if parts.scheme in ("https", "http") and parts.netloc:
            found.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(sorted(set(found)))


@lru_cache(maxsize=8)
def _policy(nhs_fonts: bool, sign_in_with: tuple[str, ...]) -> str:
    return content_security_policy(nhs_fonts=nhs_fonts, sign_in_with=sign_in_with)


PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        token = request_id.set(request.request_id)  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-Id"] = request.request_id  # type: ignore[attr-defined]
        return response


class SecurityHeadersMiddleware:
    """CSP and friends. Pages are never cached: any of them may show care data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = _policy(settings.DSR_NHS_FONTS, _providers())
        response.setdefault("Content-Security-Policy", policy)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if not request.path.startswith(settings.STATIC_URL):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response


# Where a browser says a request came from (Fetch Metadata request headers): only these
# are our own pages, or the user's own doing (a bookmark, a typed address).
OWN_SITE = frozenset({"same-origin", "none"})


class FetchMetadataMiddleware:
    """Refuses what another site's page has a browser ask of us on its own: an image, a
    script, a frame, a fetch. Every current browser says so in `Sec-Fetch-*` headers.
    Someone following a link from an email or a provider's redirect back (a top-level
    navigation) still arrives, and a request without the headers (an older browser, the
    load balancer's health check) is served as before.

    Found by a review: thirty `<img>` tags on any page that one member of a trust's staff
    opened spent the trust address's budget of sign-in failures (ADR 0031), and everyone
    there was turned away for ten minutes, again and again. Nothing about such a request is
    counted or audited: recording it would hand the same flood to the audit trail."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in OWN_SITE and not _top_level(request):
            return HttpResponse(
                "Refused: this address is not for other sites to load.",
                status=403,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _top_level(request: HttpRequest) -> bool:
    """A navigation of the whole window (not a frame: ours refuse to be framed anyway)."""
    headers = request.headers
    return (
        headers.get("Sec-Fetch-Mode") == "navigate"
        and headers.get("Sec-Fetch-Dest", "document") == "document"
    )
