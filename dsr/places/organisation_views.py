"""The place's organisations (the place admin's list): add, rename, retire, bring back."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from dsr.core import audit
from dsr.core.access import Permission, requires
from dsr.core.door import of_acting_place
from dsr.core.forms import add_service_error, posted
from dsr.core.routing import redirect_to
from dsr.places import services
from dsr.places.forms import OrganisationEditForm, OrganisationForm
from dsr.places.models import Organisation


def _refused(request: HttpRequest, form: OrganisationForm) -> None:
    audit.record_refused(
        context=audit.Context.of(request),
        place_id=request.place.pk,  # type: ignore[attr-defined]
        what="organisation",
        reason="invalid",
        fields=sorted(form.errors),
    )


@requires(Permission.MANAGE_ORGANISATIONS)
@require_http_methods(["GET", "POST"])
def organisations(request: HttpRequest) -> HttpResponse:
    """Every organisation of the place, and a form to add one."""
    place = request.place  # type: ignore[attr-defined]
    form = OrganisationForm(posted(request))
    if request.method == "POST":
        if form.is_valid():
            try:
                added = services.add_organisation(
                    place=place,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    by=audit.Context.of(request),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"{added.name} added")
                return redirect_to(request, "places:organisations")
        else:
            _refused(request, form)
    listed = services.all_organisations_of(place)
    return render(request, "places/organisations.jinja", {"form": form, "organisations": listed})


@requires(Permission.MANAGE_ORGANISATIONS)
@require_http_methods(["GET", "POST"])
def organisation_edit(request: HttpRequest, organisation_id: int) -> HttpResponse:
    organisation = of_acting_place(request, Organisation.objects.all(), organisation_id)
    initial = {
        "name": organisation.name,
        "kind": organisation.kind,
        "is_active": str(organisation.is_active),
    }
    form = OrganisationEditForm(posted(request), initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_organisation(
                    organisation=organisation,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                    is_active=form.cleaned_data["is_active"],
                    by=audit.Context.of(request),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, "Organisation saved")
                return redirect_to(request, "places:organisations")
        else:
            _refused(request, form)
    return render(
        request, "places/organisation_edit.jinja", {"form": form, "organisation": organisation}
    )
