"""How django-axes names the account being tried and the address trying it."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest


def username_from(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The email, case-folded."""
    if credentials and credentials.get("username"):
        return str(credentials["username"]).strip().lower()
    return str(request.POST.get("email", "")).strip().lower()


def client_from(request: HttpRequest) -> str:
    """The address the lockout counts against: the real client (core/proxy.py), and for an
    IPv6 client its network, as the sign-in rate limit counts it (RATELIMIT_IPV6_MASK, 64
    by default: one subscriber's). A client handed a /64 has 2^64 addresses: counted one
    by one, each would have five tries at an account. An IPv4 address written as IPv6
    (::ffff:a.b.c.d) is already its IPv4 form here (core/proxy.py)."""
    address = request.META.get("REMOTE_ADDR", "")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv4Address):
        return address
    mask = getattr(settings, "RATELIMIT_IPV6_MASK", 64)
    return str(ipaddress.IPv6Network((ip, mask), strict=False).network_address)
