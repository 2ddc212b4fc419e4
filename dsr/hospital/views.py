"""Recording a stay in hospital, its oversight visits and discharge; the inpatient overview.

Views load through the door, check, call one service, redirect.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from dsr.core import dates
from dsr.core.access import Permission, requires
from dsr.core.door import Viewer
from dsr.core.forms import add_service_error
from dsr.core.models import StaleVersion
from dsr.core.routing import redirect_to
from dsr.hospital import services
from dsr.hospital.forms import (
    AdmissionForm,
    DischargeForm,
    EditAdmissionForm,
    LiftRedForm,
    VisitForm,
)
from dsr.hospital.models import Admission
from dsr.hospital.scoping import ADMISSIONS, in_hospital
from dsr.people.choices import Status
from dsr.people.scoping import PEOPLE
from dsr.risk.models import RiskRating

PAGE_SIZE = 50
UNRECORDED_SHOWN = 50
STALE = (
    "Someone else changed this stay while you were working. Check what it now says, then try again"
)


def _closed(request: HttpRequest, person: Any) -> HttpResponse | None:
    if person.is_open:
        return None
    messages.info(request, "This record is closed")
    return redirect_to(request, "register:person", person.pk)


@requires(Permission.RECORD_ADMISSION)
@require_http_methods(["GET", "POST"])
def admission_new(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="admission form")
    if (closed := _closed(request, person)) is not None:
        return closed
    form = AdmissionForm(
        request.POST or None,
        initial={
            "admitted_on": dates.today(),
            # Added to the register before today: most likely on it before this admission.
            "on_register_before": "yes" if person.created_at.date() < dates.today() else "",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.admit(person=person, data=form.admission_data(), by=viewer.context)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Admission recorded: the rating is now Blue")
            return redirect_to(request, "register:person", person.pk)
    return render(request, "hospital/admission_new.jinja", {"form": form, "person": person})


def _episode(request: HttpRequest, admission_id: int, purpose: str) -> Admission:
    return ADMISSIONS.get(Viewer.of(request), admission_id, purpose=purpose)


@requires(Permission.RECORD_ADMISSION)
@require_http_methods(["GET", "POST"])
def admission_edit(request: HttpRequest, admission_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    episode = _episode(request, admission_id, "admission form")
    if (closed := _closed(request, episode.person)) is not None:
        return closed
    form = EditAdmissionForm(request.POST or None, initial=AdmissionForm.initial_from(episode))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_admission(
                admission=episode,
                data=form.admission_data(),
                expected_version=form.cleaned_data["version"],
                by=viewer.context,
            )
        except StaleVersion:
            form.add_error(None, STALE)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Stay updated")
            return redirect_to(request, "register:person", episode.person_id)
    return render(request, "hospital/admission_edit.jinja", {"form": form, "admission": episode})


@requires(Permission.RECORD_ADMISSION)
@require_http_methods(["GET", "POST"])
def admission_discharge(request: HttpRequest, admission_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    episode = _episode(request, admission_id, "discharge form")
    if (closed := _closed(request, episode.person)) is not None:
        return closed
    form = DischargeForm(
        request.POST or None, initial={"discharged_on": dates.today(), "version": episode.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.discharge(
                admission=episode,
                discharged_on=form.cleaned_data["discharged_on"],
                destination=form.cleaned_data["discharge_destination"],
                expected_version=form.cleaned_data["version"],
                by=viewer.context,
            )
        except StaleVersion:
            form.add_error(None, STALE)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Discharge recorded: the rating is now Red")
            return redirect_to(request, "register:person", episode.person_id)
    policy = episode.person.place.settings
    return render(
        request,
        "hospital/discharge.jinja",
        {"form": form, "admission": episode, "red_days": policy.post_discharge_red_days},
    )


@requires(Permission.RECORD_OVERSIGHT_VISIT)
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest, admission_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    episode = _episode(request, admission_id, "oversight visit form")
    if (closed := _closed(request, episode.person)) is not None:
        return closed
    form = VisitForm(
        request.POST or None,
        initial={"visited_on": dates.today(), "visited_by": request.user.full_name},  # type: ignore[union-attr]
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_visit(
                admission=episode,
                visited_on=form.cleaned_data["visited_on"],
                visited_by=form.cleaned_data["visited_by"],
                findings=form.cleaned_data["findings"],
                by=viewer.context,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Oversight visit recorded")
            return redirect_to(request, "register:person", episode.person_id)
    return render(request, "hospital/visit_new.jinja", {"form": form, "admission": episode})


@requires(Permission.RATE_PERSON)
@require_http_methods(["GET", "POST"])
def red_lift(request: HttpRequest, admission_id: int) -> HttpResponse:
    """A coordinator records why the person need not stay Red after this discharge."""
    viewer = Viewer.of(request)
    episode = _episode(request, admission_id, "after discharge form")
    if (closed := _closed(request, episode.person)) is not None:
        return closed
    form = LiftRedForm(request.POST or None, initial={"version": episode.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.lift_red(
                admission=episode,
                reason=form.cleaned_data["red_lifted_reason"],
                expected_version=form.cleaned_data["version"],
                by=viewer.context,
            )
        except StaleVersion:
            form.add_error(None, STALE)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Recorded: a rating other than Red can now be given")
            return redirect_to(request, "risk:rate", episode.person_id)
    policy = episode.person.place.settings
    return render(
        request,
        "hospital/red_lift.jinja",
        {"form": form, "admission": episode, "red_until": episode.red_until(policy)},
    )


@requires(Permission.VIEW_INPATIENTS)
@require_safe
def inpatients(request: HttpRequest) -> HttpResponse:
    """Everyone in hospital now: the page a commissioner checks each week (issue 10, part 5).

    The keyworker column arrives with keyworker allocation (issue 9).
    """
    viewer = Viewer.of(request)
    today = dates.today()
    current = (
        ADMISSIONS.list(viewer, purpose="inpatients").current().filter(person__status=Status.OPEN)
    )
    # Counts show no one: nothing to audit.
    totals = current.aggregate(
        people=Count("pk"),
        out_of_area=Count("pk", filter=Q(out_of_area=True)),
        delayed=Count("pk", filter=Q(delayed_discharge=True)),
        visits_overdue=Count("pk", filter=Q(visit_due__lt=today)),
        cetrs_overdue=Count("pk", filter=Q(cetr_due__lt=today)),
    )
    page = Paginator(
        current.select_related("person").order_by("admitted_on", "id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    shown = list(page.object_list)  # the fetch that records who was shown
    unrecorded = list(
        PEOPLE.list(viewer, purpose="inpatients")
        .filter(status=Status.OPEN, current_rating=RiskRating.BLUE)
        .exclude(in_hospital())
        .only("id", "place_id", "given_name", "family_name", "date_of_birth", "rated_on")
        .order_by("family_name", "given_name", "id")[:UNRECORDED_SHOWN]
    )
    return render(
        request,
        "hospital/inpatients.jinja",
        {"page": page, "shown": shown, "totals": totals, "unrecorded": unrecorded},
    )
