"""Rating, reviewing and logging events for a person; the rising-risk list."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dsr.core import audit, dates
from dsr.core.access import Permission, requires
from dsr.people.scoping import get_person_or_404, visible_people
from dsr.people.services import record_view
from dsr.risk import services
from dsr.risk.forms import EventForm, RateForm, ReviewForm
from dsr.risk.models import Signal


def _closed_refusal(request: HttpRequest, person) -> HttpResponse:  # type: ignore[no-untyped-def]
    messages.info(request, "This record is closed")
    return redirect("people:detail", person_id=person.pk)


@requires(Permission.RATE_PERSON)
@require_http_methods(["GET", "POST"])
def rate_person(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_person_or_404(request, person_id)
    if not person.is_open:
        return _closed_refusal(request, person)
    form = RateForm(
        request.POST or None,
        place=person.place,
        initial={"rating": person.current_rating, "decided_on": dates.today()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.rate(
                person=person,
                rating=form.cleaned_data["rating"],
                rationale=form.cleaned_data["rationale"],
                decided_on=form.cleaned_data["decided_on"],
                factors=form.cleaned_data["factors"],
                context=form.cleaned_data["context"],
                by=audit.Context.of(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Rating recorded")
            return redirect("people:detail", person_id=person.pk)
    if request.method == "GET":
        record_view(person=person, by=audit.Context.of(request), what="rating form")
    return render(request, "risk/rate.jinja", {"form": form, "person": person})


@requires(Permission.RECORD_REVIEW)
@require_http_methods(["GET", "POST"])
def review_person(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_person_or_404(request, person_id)
    if not person.is_open:
        return _closed_refusal(request, person)
    form = ReviewForm(
        request.POST or None,
        place=person.place,
        initial={"rating": person.current_rating, "held_on": dates.today()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        agreed = []
        if data.get("action_description"):
            agreed.append(
                services.AgreedAction(
                    description=data["action_description"],
                    due_on=data["action_due"],
                    owner_name=data["action_owner"],
                )
            )
        try:
            services.record_review(
                person=person,
                held_on=data["held_on"],
                participants=data["participants"],
                summary=data["summary"],
                rating=data["rating"],
                rationale=data["rationale"],
                factors=data["factors"],
                agreed=agreed,
                by=audit.Context.of(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Review recorded")
            return redirect("people:detail", person_id=person.pk)
    if request.method == "GET":
        record_view(person=person, by=audit.Context.of(request), what="review form")
    return render(request, "risk/review.jinja", {"form": form, "person": person})


@requires(Permission.LOG_EVENT)
@require_http_methods(["GET", "POST"])
def event_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_person_or_404(request, person_id)
    if not person.is_open:
        return _closed_refusal(request, person)
    form = EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.log_event(
                person=person,
                kind=form.cleaned_data["kind"],
                occurred_on=form.cleaned_data["occurred_on"],
                description=form.cleaned_data["description"],
                by=audit.Context.of(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Event logged")
            return redirect("people:detail", person_id=person.pk)
    if request.method == "GET":
        record_view(person=person, by=audit.Context.of(request), what="event form")
    return render(request, "risk/event.jinja", {"form": form, "person": person})


@requires(Permission.VIEW_RISING_RISK)
def rising_risk(request: HttpRequest) -> HttpResponse:
    """Open signals in the place: who needs a review now, and why."""
    signals = (
        Signal.objects.filter(
            place=request.place,  # type: ignore[attr-defined]
            cleared_by__isnull=True,
            person__in=visible_people(request).open(),
        )
        .select_related("person")
        .order_by("-fired_on", "-id")[:200]
    )
    audit.record_read(context=audit.Context.of(request), page="rising risk")
    return render(request, "risk/rising_risk.jinja", {"signals": list(signals)})
