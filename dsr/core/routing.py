"""Addresses of place pages: every page of a place carries the place in its URL (ADR 0002)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dsr.core.access import PLACE_KWARG


class RecordId:
    """`<id:person_id>`: a record's id, as a URL writes it. At most 18 digits, so every id
    that matches fits the database's 64-bit keys; a longer one is simply not a page (404),
    never a query the database cannot run."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            found.append((prefix + str(entry.pattern), namespace + entry.name))
    return found


@lru_cache(maxsize=1)
def place_routes() -> frozenset[str]:
    """The names of the routes whose URL carries a place."""
    marker = f"<id:{PLACE_KWARG}>"
    return frozenset(name for route, name in _walk(get_resolver().url_patterns) if marker in route)


# Numbers no record has, put in an address's places once per route and replaced after.
_SENTINELS = tuple(str(987_654_321_000 + n) for n in range(1, 7))


@lru_cache(maxsize=1024)
def _shape(name: str, count: int) -> str:
    return reverse(name, args=_SENTINELS[:count])


def fast_reverse(name: str, args: tuple[Any, ...]) -> str:
    """`reverse(name, args=args)`, for routes whose arguments are record ids: the route is
    reversed once and its ids filled in after (a register page has an address a row;
    reverse() each time was a millisecond or two a page, `make bench`)."""
    if len(args) > len(_SENTINELS) or not all(type(a) is int and a >= 0 for a in args):
        return reverse(name, args=args)
    address = _shape(name, len(args))
    for sentinel, value in zip(_SENTINELS, args, strict=False):
        address = address.replace(sentinel, str(value), 1)
    return address


def url_in(place_id: int, name: str, *args: Any, **query: Any) -> str:
    """`url_in(place.pk, "register:person", person.pk)`: a page of the place."""
    address = fast_reverse(name, (place_id, *args))
    if query:
        from django.utils.http import urlencode

        address += "?" + urlencode(query)
    return address


def absolute(path: str) -> str:
    """A full address for a link sent outside the register (an email): SITE_URL + path."""
    from django.conf import settings

    return f"{settings.SITE_URL.rstrip('/')}{path}"


def url_for(request: HttpRequest, name: str, *args: Any) -> str:
    """An address for `name`; place pages get the request's place put in for them."""
    if name in place_routes():
        return url_in(request.place.pk, name, *args)  # type: ignore[attr-defined]
    return reverse(name, args=args or None)


def redirect_to(request: HttpRequest, name: str, *args: Any) -> HttpResponseRedirect:
    return HttpResponseRedirect(url_for(request, name, *args))
