"""Choosing a place to work in, each place's front page, and its settings (ADR 0015)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from dsr.core import audit
from dsr.core.access import LAST_PLACE, Permission, member, requires, role_has, signed_in
from dsr.core.forms import add_service_error, posted
from dsr.core.models import StaleVersion
from dsr.core.routing import redirect_to, url_in
from dsr.places import impact, policy, services
from dsr.places.forms import PlaceSettingsForm
from dsr.places.models import PlaceSettings

# Where each role lands in a place: the first page its permissions open.
LANDING = [
    (Permission.VIEW_REGISTER, "register:list"),
    (Permission.SEARCH_AUDIT, "audit_search"),
    (Permission.MANAGE_USERS, "places:users"),
    (Permission.VIEW_PLACE_SETTINGS, "places:settings"),
]
STALE_SETTINGS = (
    "Someone else changed these settings after you opened this page. Nothing has been "
    "saved. Check the settings they changed, then save yours again"
)
NOTHING_CHANGED = "You have not changed any setting"


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
    current = request.place.settings  # type: ignore[attr-defined]
    return render(request, "places/settings.jinja", {"rows": policy.rows(current)})


def _fresh(request: HttpRequest) -> PlaceSettings:
    return PlaceSettings.objects.get(place_id=request.place.pk)  # type: ignore[attr-defined]


def _kept_fields(request: HttpRequest) -> list[tuple[str, str]]:
    """What the user sent, to carry through the confirmation page as hidden fields."""
    return [
        (name, value)
        for name, values in request.POST.lists()
        if name not in {"csrfmiddlewaretoken", "confirm"}
        for value in values
    ]


@requires(Permission.EDIT_PLACE_SETTINGS)
@require_http_methods(["GET", "POST"])
def place_settings_edit(request: HttpRequest) -> HttpResponse:
    """Change settings: the form, then what the change affects, then save (ADR 0015)."""
    place = request.place  # type: ignore[attr-defined]
    by = audit.Context.of(request)
    current = _fresh(request)
    form = PlaceSettingsForm(posted(request), current=current)
    problems: list[str] = []
    changed_meanwhile: list[tuple[str, str, str]] = []
    if request.method == "POST":
        if not form.is_valid():
            audit.record_refused(
                context=by,
                place_id=place.pk,
                what="place settings",
                reason="invalid",
                fields=sorted(form.errors),
            )
            return render(request, "places/settings_edit.jinja", {"form": form}, status=200)
        values = form.values()
        changes = policy.changes_between(current, values)
        try:
            if form.cleaned_data["version"] != current.version:
                raise StaleVersion()
            if not changes:
                raise ValidationError(NOTHING_CHANGED)
            policy.clean_values(current, values)
            if request.POST.get("back") == "yes":  # from the check page: change them again
                return render(request, "places/settings_edit.jinja", {"form": form})
            if request.POST.get("confirm") != "yes":
                return render(
                    request,
                    "places/settings_confirm.jinja",
                    {
                        "changes": _change_rows(changes),
                        "impacts": impact.impacts_of(place, changes),
                        "kept": _kept_fields(request),
                    },
                )
            services.update_place_settings(
                place=place,
                values={name: new for name, (_old, new) in changes.items()},
                expected_version=form.cleaned_data["version"],
                by=by,
            )
        except StaleVersion:
            if request.POST.get("confirm") != "yes":  # the service audits its own refusals
                audit.record_refused(
                    context=by, place_id=place.pk, what="place settings", reason="stale"
                )
            changed_meanwhile = policy.rows(current, names=changes)
            data = request.POST.copy()
            data["version"] = str(current.version)
            form = PlaceSettingsForm(data, current=current)
            form.is_valid()
            problems = [STALE_SETTINGS]
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                "Settings saved. They apply from now on: dates already set stay as they are",
            )
            return redirect_to(request, "places:settings")
    return render(
        request,
        "places/settings_edit.jinja",
        {"form": form, "problems": problems, "changed_meanwhile": changed_meanwhile},
    )


def _change_rows(changes: dict[str, list[Any]]) -> list[tuple[str, str, str, str]]:
    """(name, label, from, to) in words, for the confirmation page."""
    rows = []
    for name, (old, new) in changes.items():
        field = policy.policy_field(name)
        rows.append(
            (name, policy.label_of(field), policy.describe(field, old), policy.describe(field, new))
        )
    return rows
