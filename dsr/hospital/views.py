"""Recording a stay in hospital, its oversight visits and discharge; the inpatient overview.

Views load through the door, check, call one service, redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from dsr.core import dates
from dsr.core.access import Permission, requires
from dsr.core.door import Viewer
from dsr.core.forms import MOVES_ON, add_service_error, changed_meanwhile
from dsr.core.models import StaleVersion
from dsr.core.once import SENT_ALREADY, once
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
from dsr.keywork.scoping import current_keyworker
from dsr.people.choices import Status
from dsr.people.scoping import PEOPLE
from dsr.risk.models import RiskRating

PAGE_SIZE = 50
UNRECORDED_SHOWN = 50


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


def _step(
    request: HttpRequest,
    admission_id: int,
    *,
    purpose: str,
    form_class: type[BaseForm],
    initial: Callable[[Admission], dict[str, Any]],
    act: Callable[[Admission, dict[str, Any], Viewer], Any],
    done: str,
    template: str,
    after: str = "register:person",
    extra: Callable[[Admission], dict[str, Any]] = lambda episode: {},
    shows_the_stay: bool = False,
) -> HttpResponse:
    """One change to a stay: its form, one service, back to the person (or `after`).
    `shows_the_stay`: the form's initial values are the stay's own (an edit), not a step's
    defaults; a stale save then names those that changed (core.forms.changed_meanwhile)."""
    viewer = Viewer.of(request)
    episode = _episode(request, admission_id, purpose)
    if (closed := _closed(request, episode.person)) is not None:
        return closed
    form = form_class(request.POST or None, initial=initial(episode))
    if request.method == "POST" and form.is_valid():
        try:
            act(episode, form.cleaned_data, viewer)
        except StaleVersion:
            now = _episode(request, admission_id, purpose)
            changed_meanwhile(form, now, initial(now) if shows_the_stay else MOVES_ON)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, done)
            return redirect_to(request, after, episode.person_id)
    return render(request, template, {"form": form, "admission": episode, **extra(episode)})


@requires(Permission.RECORD_ADMISSION)
@require_http_methods(["GET", "POST"])
def admission_edit(request: HttpRequest, admission_id: int) -> HttpResponse:
    return _step(
        request,
        admission_id,
        purpose="admission form",
        form_class=EditAdmissionForm,
        initial=AdmissionForm.initial_from,
        shows_the_stay=True,
        act=lambda episode, data, viewer: services.update_admission(
            admission=episode,
            data=AdmissionForm.values_of(data),
            expected_version=data["version"],
            by=viewer.context,
        ),
        done="Stay updated",
        template="hospital/admission_edit.jinja",
    )


@requires(Permission.RECORD_ADMISSION)
@require_http_methods(["GET", "POST"])
def admission_discharge(request: HttpRequest, admission_id: int) -> HttpResponse:
    return _step(
        request,
        admission_id,
        purpose="discharge form",
        form_class=DischargeForm,
        initial=lambda episode: {"discharged_on": dates.today(), "version": episode.version},
        act=lambda episode, data, viewer: services.discharge(
            admission=episode,
            discharged_on=data["discharged_on"],
            destination=data["discharge_destination"],
            expected_version=data["version"],
            by=viewer.context,
        ),
        done="Discharge recorded: the rating is now Red",
        template="hospital/discharge.jinja",
        extra=lambda episode: {"red_days": episode.person.place.settings.post_discharge_red_days},
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
            with once(form) as first:
                if first:
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
            messages.success(request, "Oversight visit recorded" if first else SENT_ALREADY)
            return redirect_to(request, "register:person", episode.person_id)
    return render(request, "hospital/visit_new.jinja", {"form": form, "admission": episode})


@requires(Permission.RATE_PERSON)
@require_http_methods(["GET", "POST"])
def red_lift(request: HttpRequest, admission_id: int) -> HttpResponse:
    """A coordinator records why the person need not stay Red after this discharge."""
    return _step(
        request,
        admission_id,
        purpose="after discharge form",
        form_class=LiftRedForm,
        initial=lambda episode: {"version": episode.version},
        act=lambda episode, data, viewer: services.lift_red(
            admission=episode,
            reason=data["red_lifted_reason"],
            expected_version=data["version"],
            by=viewer.context,
        ),
        done="Recorded: a rating other than Red can now be given",
        template="hospital/red_lift.jinja",
        after="risk:rate",
        extra=lambda episode: {"red_until": episode.red_until(episode.person.place.settings)},
    )


@requires(Permission.VIEW_INPATIENTS)
@require_safe
def inpatients(request: HttpRequest) -> HttpResponse:
    """Everyone in hospital now: the page a commissioner checks each week (issue 10, part 5),
    with each inpatient's keyworker (keywork: allocated to them now)."""
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
        current.select_related("person")
        .annotate(keyworker_name=current_keyworker())
        .order_by("admitted_on", "id"),
        PAGE_SIZE,
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
