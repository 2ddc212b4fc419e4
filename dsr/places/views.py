"""Choosing a place to work in, each place's front page, and its settings."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from dsr.core.access import LAST_PLACE, Permission, member, requires, role_has, signed_in
from dsr.core.routing import redirect_to, url_in
from dsr.places.models import PlaceSettings

# Where each role lands in a place: the first page its permissions open.
LANDING = [
    (Permission.VIEW_REGISTER, "register:list"),
    (Permission.SEARCH_AUDIT, "audit_search"),
    (Permission.VIEW_PLACE_SETTINGS, "places:settings"),
]


@signed_in
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The place used last (or the first), else a page saying the user has no place yet."""
    memberships = request.memberships  # type: ignore[attr-defined]
    if not memberships:
        return render(request, "core/no_place.jinja", {})
    last = request.session.get(LAST_PLACE)
    chosen = next((m for m in memberships if m.place_id == last), memberships[0])
    return redirect(url_in(chosen.place_id, "places:home"))


@member
@require_safe
def place_home(request: HttpRequest) -> HttpResponse:
    for permission, name in LANDING:
        if role_has(request.membership.role, permission):  # type: ignore[attr-defined]
            return redirect_to(request, name)
    return render(request, "core/no_place.jinja", {})


@signed_in
@require_POST
def switch_place(request: HttpRequest) -> HttpResponse:
    """The header's place switcher: go to another of the user's places."""
    try:
        place_id = int(request.POST.get("place", ""))
    except ValueError:
        raise Http404("Not found") from None
    if not any(m.place_id == place_id for m in request.memberships):  # type: ignore[attr-defined]
        raise Http404("Not found")
    return redirect(url_in(place_id, "places:home"))


@requires(Permission.VIEW_PLACE_SETTINGS)
@require_safe
def place_settings(request: HttpRequest) -> HttpResponse:
    policy = request.place.settings  # type: ignore[attr-defined]
    rows = [
        (field.verbose_name.capitalize(), field.help_text, getattr(policy, field.name))
        for field in PlaceSettings._meta.get_fields()
        if getattr(field, "concrete", False)
        and field.name not in {"id", "place", "version", "created_at", "updated_at"}
    ]
    return render(request, "places/settings.jinja", {"rows": rows})
