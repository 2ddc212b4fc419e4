"""Sets `request.place` and `request.membership` from the user's memberships.

The current place is the one chosen with the place switcher (kept in the
session) if the user still belongs to it, otherwise their first place.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from dsr.places.models import Membership

CURRENT_PLACE = "dsr_place"


class CurrentPlaceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.place = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.memberships = []  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            memberships = list(
                Membership.objects.filter(user=request.user, is_active=True)
                .select_related("place", "place__settings")
                .order_by("place__name")
            )
            request.memberships = memberships  # type: ignore[attr-defined]
            chosen = request.session.get(CURRENT_PLACE)
            current = next((m for m in memberships if m.place_id == chosen), None)
            if current is None and memberships:
                current = memberships[0]
            if current is not None:
                request.membership = current  # type: ignore[attr-defined]
                request.place = current.place  # type: ignore[attr-defined]
        return self.get_response(request)
