"""Addresses of place pages (core/routing.py)."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from dsr.core.routing import fast_reverse, place_routes, url_in


def test_fast_reverse_gives_what_reverse_gives_for_every_place_route():
    for name in place_routes():
        for args in ((7,), (7, 123), (7, 123, 4)):
            try:
                expected = reverse(name, args=args)
            except NoReverseMatch:
                continue
            assert fast_reverse(name, args) == expected, (name, args)


def test_fast_reverse_refuses_what_reverse_refuses():
    with pytest.raises(NoReverseMatch):
        fast_reverse("register:person", (1,))
    assert url_in(3, "register:person", 45, page=2) == "/places/3/people/45/?page=2"
