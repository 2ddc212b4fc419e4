from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from dsr.core.access import Permission, requires, signed_in
from dsr.places.middleware import CURRENT_PLACE
from dsr.places.models import PlaceSettings


@signed_in
@require_POST
def switch_place(request: HttpRequest) -> HttpResponse:
    """Choose which of the user's places to work in. Unknown places are a 404."""
    try:
        place_id = int(request.POST.get("place", ""))
    except ValueError:
        raise Http404("Not found") from None
    if not any(m.place_id == place_id for m in request.memberships):  # type: ignore[attr-defined]
        raise Http404("Not found")
    request.session[CURRENT_PLACE] = place_id
    return redirect("home")


@requires(Permission.VIEW_PLACE_SETTINGS)
def place_settings(request: HttpRequest) -> HttpResponse:
    policy = PlaceSettings.objects.get(place=request.place)  # type: ignore[attr-defined]
    rows = [
        (field.verbose_name.capitalize(), field.help_text, getattr(policy, field.name))
        for field in PlaceSettings._meta.get_fields()
        if getattr(field, "concrete", False)
        and field.name not in {"id", "place", "version", "created_at", "updated_at"}
    ]
    return render(request, "places/settings.jinja", {"rows": rows})
