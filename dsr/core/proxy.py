"""The real client address, from a trusted proxy only (issue 8).

Behind a TLS proxy every request arrives from the proxy's address: the sign-in lockout would
then see one address for everyone, so anyone could lock anyone out. The proxy says who the
client was in X-Forwarded-For, and whether the client used HTTPS in X-Forwarded-Proto — but
any client can send those headers too. So they are believed only from the proxies named in
TRUSTED_PROXIES, and removed from every other request before anything reads them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(hop: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as proxies write it: bare, or with a port as some proxies add (Azure's
    Application Gateway): `203.0.113.9:51234`, `[2001:db8::1]:443`. None if it is neither."""
    hop, port = hop.strip(), ""
    if hop.startswith("["):
        hop, _, rest = hop[1:].partition("]")
        if rest:
            colon, port = rest[:1], rest[1:]
            if colon != ":":
                return None
    elif hop.count(":") == 1:
        hop, _, port = hop.partition(":")
    if port and not (port.isascii() and port.isdigit()):
        return None
    try:
        return ipaddress.ip_address(hop)
    except ValueError:
        return None


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in network for network in networks)


def client_address(remote_addr: str, forwarded_for: str, proxies: Iterable[str]) -> str:
    """The client: the nearest address in X-Forwarded-For that is not a trusted proxy,
    walking back from the peer; the peer itself when it is not a trusted proxy."""
    networks = _networks(tuple(proxies))
    if not networks or not _trusted(remote_addr, networks):
        return remote_addr
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            ip = _address(hop)
            return remote_addr if ip is None else str(ip)  # garbled: the proxy is all we know
    return remote_addr


class ClientAddressMiddleware:
    """First in the chain: REMOTE_ADDR becomes the real client, and forwarded headers from
    anyone but a trusted proxy are dropped (so `request.is_secure()` cannot be faked)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        proxies = settings.TRUSTED_PROXIES
        if proxies and _trusted(peer, _networks(tuple(proxies))):
            forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
            meta["REMOTE_ADDR"] = client_address(peer, forwarded, proxies)
        else:
            for header in FORWARDED_HEADERS:
                meta.pop(header, None)
        return self.get_response(request)
