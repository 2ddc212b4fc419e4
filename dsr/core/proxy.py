"""The real client address, from a trusted proxy only (issue 8).

Behind a TLS proxy every request arrives from the proxy's address: the sign-in lockout would
then see one address for everyone, so anyone could lock anyone out. The proxy says who the
client was in X-Forwarded-For, and whether the client used HTTPS in X-Forwarded-Proto — but
any client can send those headers too. So they are believed only from the proxies named in
TRUSTED_PROXIES, and removed from every other request before anything reads them.

The address is also written one way only: an IPv4 address written as IPv6
(`::ffff:203.0.113.9`, as gunicorn bound to `[::]` hears an IPv4 peer, or a dual-stack proxy
names its client) is its IPv4 form. Everything that counts or records a client (the rate
limits, the lockout, the audit trail's `ip`) reads REMOTE_ADDR after this, so each sees one
client as one address: counted as IPv6 by its /64, every IPv4 client was `::`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST")


def _network(proxy: str) -> Network:
    """A TRUSTED_PROXIES entry; one written as IPv4-mapped IPv6 is its IPv4 network, as the
    peer it is compared with is (an operator may copy it from gunicorn's log)."""
    network = ipaddress.ip_network(proxy, strict=False)
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network((mapped, network.prefixlen - 96))
    return network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(_network(p) for p in proxies)


def _unmapped(ip: Address) -> Address:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def normal(address: str) -> str:
    """One client, one spelling: an IPv4-mapped IPv6 address is its IPv4 form, IPv6 in its
    short form; anything that is not an address is left as it is."""
    try:
        return str(_unmapped(ipaddress.ip_address(address)))
    except ValueError:
        return address


def _address(hop: str) -> Address | None:
    """An address as proxies write it: bare, or with a port as some proxies add (Azure's
    Application Gateway): `203.0.113.9:51234`, `[2001:db8::1]:443`. None if it is neither.
    An IPv4-mapped address is its IPv4 form."""
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
        return _unmapped(ipaddress.ip_address(hop))
    except ValueError:
        return None


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    ip = _address(address)
    return ip is not None and any(ip in network for network in networks)


def client_address(remote_addr: str, forwarded_for: str, proxies: Iterable[str]) -> str:
    """The client (in its normal form): the nearest address in X-Forwarded-For that is not
    a trusted proxy, walking back from the peer; the peer itself when it is not a trusted
    proxy."""
    peer = normal(remote_addr)
    networks = _networks(tuple(proxies))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            ip = _address(hop)
            return peer if ip is None else str(ip)  # garbled: the proxy is all we know
    return peer


class ClientAddressMiddleware:
    """First in the chain: REMOTE_ADDR becomes the real client, in its normal form, and
    forwarded headers from anyone but a trusted proxy are dropped (so `request.is_secure()`
    cannot be faked)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = normal(meta.get("REMOTE_ADDR", ""))
        proxies = settings.TRUSTED_PROXIES
        if proxies and _trusted(peer, _networks(tuple(proxies))):
            forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
            meta["REMOTE_ADDR"] = client_address(peer, forwarded, proxies)
        else:
            meta["REMOTE_ADDR"] = peer
            for header in FORWARDED_HEADERS:
                meta.pop(header, None)
        return self.get_response(request)
