"""Loads the signed-in user's memberships: the places they may work in.

Which place a request works in comes from its URL (`/places/<place_id>/...`), resolved by
the access rule (core/access.py `enter_place`), so tabs on different places work side by
side. Pages outside a place (home, sign-in) have no `request.place`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from dsr.core.compiled import Compiled
from dsr.places.models import Membership

# Every signed-in page reads them before its view runs: the SQL is written once (ADR 0029).
_MEMBERSHIPS = Compiled(
    lambda user_id: (
        Membership.objects.filter(user_id=user_id, is_active=True)
        .select_related("place", "place__settings")
        .order_by("place__name")
    ),
    int,
)


class MembershipsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.place = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.memberships = []  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            request.memberships = _MEMBERSHIPS(request.user.pk)  # type: ignore[attr-defined]
        return self.get_response(request)
