"""How the person is managing with health, education and social circumstances: the
history, and recording a new standing."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from dsr.core import dates
from dsr.core.access import Permission, requires
from dsr.core.door import Viewer
from dsr.core.forms import add_service_error
from dsr.core.once import SENT_ALREADY, once
from dsr.core.routing import redirect_to
from dsr.people import services
from dsr.people.choices import CircumstanceArea
from dsr.people.network_forms import CircumstanceForm
from dsr.people.scoping import CIRCUMSTANCES, PEOPLE

HISTORY = 200


@requires(Permission.VIEW_PERSON)
@require_safe
def circumstance_history(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="circumstances")
    entries = list(
        CIRCUMSTANCES.about(viewer, person, purpose="circumstances").select_related("recorded_by")[
            :HISTORY
        ]
    )
    by_area = [(area, [e for e in entries if e.area == area]) for area in CircumstanceArea]
    return render(request, "people/circumstances.jinja", {"person": person, "by_area": by_area})


@requires(Permission.RECORD_CIRCUMSTANCES)
@require_http_methods(["GET", "POST"])
def circumstance_new(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="circumstances form")
    if not person.is_open:
        messages.info(request, "This record is closed")
        return redirect_to(request, "register:person", person.pk)
    area = request.GET.get("area", "")
    initial = {"recorded_on": dates.today(), "area": area if area in CircumstanceArea else ""}
    form = CircumstanceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with once(form) as first:
                if first:
                    services.record_circumstance(
                        person=person,
                        area=data["area"],
                        standing=data["standing"],
                        note=data["note"],
                        recorded_on=data["recorded_on"],
                        by=viewer.context,
                    )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Saved" if first else SENT_ALREADY)
            return redirect_to(request, "register:person", person.pk)
    return render(request, "people/circumstance_new.jinja", {"form": form, "person": person})
