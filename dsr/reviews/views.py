"""Asking for, arranging and recording C(E)TRs; the place-wide C(E)TR schedule.

Views load through the door, check, call one service, redirect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from dsr.actions import services as actions
from dsr.actions.forms import ActionForm
from dsr.actions.scoping import ACTIONS
from dsr.core import dates
from dsr.core.access import Permission, allows, requires
from dsr.core.door import Viewer
from dsr.core.forms import MOVES_ON, add_service_error, changed_meanwhile
from dsr.core.models import StaleVersion
from dsr.core.once import SENT_ALREADY, once
from dsr.core.routing import redirect_to
from dsr.people.scoping import PEOPLE
from dsr.places.services import organisations_of
from dsr.reviews import schedule, services
from dsr.reviews.forms import CancelForm, DetailsForm, HoldForm, ReportForm, RequestForm
from dsr.reviews.models import Cetr, CetrKind
from dsr.reviews.scoping import CETRS, with_progress

PURPOSE = "C(E)TR"


@requires(Permission.RECORD_CETR)
@require_http_methods(["GET", "POST"])
def cetr_request(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="C(E)TR request form")
    if not person.is_open:
        messages.info(request, "This record is closed")
        return redirect_to(request, "register:person", person.pk)
    kind = request.GET.get("kind", "")
    form = RequestForm(
        request.POST or None,
        initial={"requested_on": dates.today(), "kind": kind if kind in CetrKind.values else ""},
    )
    if request.method == "POST" and form.is_valid():
        try:
            review = services.request_cetr(
                person=person,
                kind=form.cleaned_data["kind"],
                requested_on=form.cleaned_data["requested_on"],
                reason=form.cleaned_data["reason"],
                by=viewer.context,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"{review.get_kind_display()} requested")
            return redirect_to(request, "reviews:cetr", review.pk)
    return render(request, "reviews/request.jinja", {"form": form, "person": person})


@requires(Permission.VIEW_PERSON)
@require_safe
def cetr_detail(request: HttpRequest, cetr_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    review = CETRS.get(viewer, cetr_id, purpose=PURPOSE)
    progress = with_progress(CETRS.about(viewer, review.person, purpose=PURPOSE, pk=review.pk))
    recommendations = list(
        ACTIONS.about(viewer, review.person, purpose=PURPOSE, recommendation__cetr=review)
        .select_related("owner_user", "owner_organisation")
        .order_by("due_on", "id")
    )
    for action in recommendations:
        action.updatable = allows(viewer.membership, Permission.UPDATE_ACTION, action)
    return render(
        request,
        "reviews/cetr.jinja",
        {
            "cetr": review,
            "progress": next(iter(progress)),
            "recommendations": recommendations,
            "allows": {p: allows(viewer.membership, p) for p in Permission},
        },
    )


def _step(
    request: HttpRequest,
    cetr_id: int,
    *,
    purpose: str,
    form_class: type[BaseForm],
    initial: Callable[[Cetr], dict[str, Any]],
    act: Callable[[Cetr, dict[str, Any], Viewer], Any],
    done: str,
    template: str,
    shows_the_review: bool = False,
) -> HttpResponse:
    """One step of a review's life: a form, one service, back to the review.
    `shows_the_review`: the form's initial values are the review's own (its details), not a
    step's defaults; a stale save then names those that changed."""
    viewer = Viewer.of(request)
    review = CETRS.get(viewer, cetr_id, purpose=purpose)
    if not review.person.is_open:
        messages.info(request, "This record is closed")
        return redirect_to(request, "reviews:cetr", review.pk)
    form = form_class(request.POST or None, initial={**initial(review), "version": review.version})
    if request.method == "POST" and form.is_valid():
        try:
            act(review, form.cleaned_data, viewer)
        except StaleVersion:
            now = CETRS.get(viewer, cetr_id, purpose=purpose)
            changed_meanwhile(form, now, initial(now) if shows_the_review else MOVES_ON)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, done)
            return redirect_to(request, "reviews:cetr", review.pk)
    return render(request, template, {"form": form, "cetr": review})


@requires(Permission.RECORD_CETR)
@require_http_methods(["GET", "POST"])
def cetr_details(request: HttpRequest, cetr_id: int) -> HttpResponse:
    """Its date, panel, attendees and consent: everything arranged before it is held."""

    def act(review: Cetr, data: dict[str, Any], viewer: Viewer) -> Any:
        details = {name: data[name] for name in services.DETAIL_FIELDS}
        return services.update_cetr(
            cetr=review, data=details, expected_version=data["version"], by=viewer.context
        )

    return _step(
        request,
        cetr_id,
        purpose="C(E)TR details form",
        form_class=DetailsForm,
        initial=lambda r: {name: getattr(r, name) for name in DetailsForm.base_fields},
        shows_the_review=True,
        act=act,
        done="C(E)TR details saved",
        template="reviews/details.jinja",
    )


@requires(Permission.RECORD_CETR)
@require_http_methods(["GET", "POST"])
def cetr_hold(request: HttpRequest, cetr_id: int) -> HttpResponse:
    return _step(
        request,
        cetr_id,
        purpose="C(E)TR held form",
        form_class=HoldForm,
        initial=lambda r: {"held_on": r.scheduled_for or dates.today(), "summary": r.summary},
        act=lambda review, data, viewer: services.hold_cetr(
            cetr=review,
            held_on=data["held_on"],
            summary=data["summary"],
            expected_version=data["version"],
            by=viewer.context,
        ),
        done="Recorded as held",
        template="reviews/hold.jinja",
    )


@requires(Permission.RECORD_CETR)
@require_http_methods(["GET", "POST"])
def cetr_report(request: HttpRequest, cetr_id: int) -> HttpResponse:
    return _step(
        request,
        cetr_id,
        purpose="C(E)TR report form",
        form_class=ReportForm,
        initial=lambda r: {"report_issued_on": dates.today()},
        act=lambda review, data, viewer: services.issue_report(
            cetr=review,
            issued_on=data["report_issued_on"],
            expected_version=data["version"],
            by=viewer.context,
        ),
        done="Report recorded as issued",
        template="reviews/report.jinja",
    )


@requires(Permission.RECORD_CETR)
@require_http_methods(["GET", "POST"])
def cetr_cancel(request: HttpRequest, cetr_id: int) -> HttpResponse:
    return _step(
        request,
        cetr_id,
        purpose="C(E)TR cancel form",
        form_class=CancelForm,
        initial=lambda r: {},
        act=lambda review, data, viewer: services.cancel_cetr(
            cetr=review,
            reason=data["cancel_reason"],
            expected_version=data["version"],
            by=viewer.context,
        ),
        done="C(E)TR cancelled",
        template="reviews/cancel.jinja",
    )


@requires(Permission.RECORD_CETR)
@require_http_methods(["GET", "POST"])
def recommendation_new(request: HttpRequest, cetr_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    review = CETRS.get(viewer, cetr_id, purpose="recommendation form")
    if not review.person.is_open:
        messages.info(request, "This record is closed")
        return redirect_to(request, "reviews:cetr", review.pk)
    form = ActionForm(
        request.POST or None,
        users=actions.possible_owners(review.person),
        organisations=organisations_of(review.person.place),
    )
    form.fields["description"].label = "Recommendation"
    form.fields["description"].error_messages["required"] = "Enter the recommendation"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with once(form) as first:
                if first:
                    services.add_recommendation(
                        cetr=review,
                        description=data["description"],
                        due_on=data["due_on"],
                        owner_user=data["owner_user"],
                        owner_name=data["owner_name"],
                        owner_organisation=data["owner_organisation"],
                        by=viewer.context,
                    )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Recommendation added" if first else SENT_ALREADY)
            return redirect_to(request, "reviews:cetr", review.pk)
    return render(request, "reviews/recommendation_new.jinja", {"form": form, "cetr": review})


@requires(Permission.VIEW_CETR_SCHEDULE)
@require_safe
def cetr_schedule(request: HttpRequest) -> HttpResponse:
    """Every C(E)TR, report and oversight visit due or overdue in the place (part 3)."""
    return render(
        request, "reviews/schedule.jinja", {"sections": schedule.sections(Viewer.of(request))}
    )
