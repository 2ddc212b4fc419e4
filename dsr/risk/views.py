"""Rating, reviewing and logging events for a person. Views load through the door, check,
call one service, redirect."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from dsr.core import dates
from dsr.core.access import Permission, requires
from dsr.core.door import Viewer
from dsr.core.forms import add_service_error
from dsr.core.models import StaleVersion
from dsr.core.once import SENT_ALREADY, once
from dsr.core.routing import redirect_to
from dsr.core.text import ascii_digits
from dsr.people.models import Person
from dsr.people.scoping import PEOPLE
from dsr.risk import services
from dsr.risk.forms import ClosePromptForm, EventForm, RateForm, ReviewForm
from dsr.risk.models import RiskRating
from dsr.risk.panels import stale_prompts
from dsr.risk.scoping import SIGNALS


def _open_person(request: HttpRequest, person_id: int, purpose: str) -> Person | HttpResponse:
    """The person, read through the door for this form; closed records take no new risk."""
    person = PEOPLE.get(Viewer.of(request), person_id, purpose=purpose)
    if not person.is_open:
        messages.info(request, "This record is closed")
        return redirect_to(request, "register:person", person.pk)
    return person


def _signals(request: HttpRequest, person: Person, purpose: str) -> list[Any]:
    """The early warnings a decision on this page would clear, shown on it; their ids go
    back with the form (`seen`), so one flagged meanwhile is shown before it is cleared."""
    return list(SIGNALS.about(Viewer.of(request), person, purpose=purpose).open())


def _seen(request: HttpRequest) -> list[int]:
    """The warnings the page said it showed. Anything but the page's own ids is none seen:
    the service then refuses while any are open, and the page shows them again."""
    parts = request.POST.get("signals_seen", "").split(",")
    return [int(part) for part in parts if ascii_digits(part) and len(part) <= 18]


@requires(Permission.RATE_PERSON)
@require_http_methods(["GET", "POST"])
def rate_person(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _open_person(request, person_id, "rating form")
    if isinstance(person, HttpResponse):
        return person
    form = RateForm(
        request.POST or None,
        place=person.place,
        initial={"rating": person.current_rating, "decided_on": dates.today()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            with once(form) as first:
                if first:
                    services.rate(
                        person=person,
                        rating=form.cleaned_data["rating"],
                        rationale=form.cleaned_data["rationale"],
                        decided_on=form.cleaned_data["decided_on"],
                        factors=form.cleaned_data["factors"],
                        context=form.cleaned_data["context"],
                        by=Viewer.of(request).context,
                        seen=_seen(request),
                    )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Rating recorded" if first else SENT_ALREADY)
            return redirect_to(request, "register:person", person.pk)
    signals = _signals(request, person, "rating form")
    return render(request, "risk/rate.jinja", {"form": form, "person": person, "signals": signals})


@requires(Permission.RECORD_REVIEW)
@require_http_methods(["GET", "POST"])
def review_person(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _open_person(request, person_id, "review form")
    if isinstance(person, HttpResponse):
        return person
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
            with once(form) as first:
                if first:
                    services.record_review(
                        person=person,
                        held_on=data["held_on"],
                        participants=data["participants"],
                        summary=data["summary"],
                        rating=data["rating"],
                        rationale=data["rationale"],
                        factors=data["factors"],
                        agreed=agreed,
                        by=Viewer.of(request).context,
                        seen=_seen(request),
                    )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Review recorded" if first else SENT_ALREADY)
            return redirect_to(request, "register:person", person.pk)
    signals = _signals(request, person, "review form")
    context = {"form": form, "person": person, "signals": signals}
    return render(request, "risk/review.jinja", context)


@requires(Permission.LOG_EVENT)
@require_http_methods(["GET", "POST"])
def event_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _open_person(request, person_id, "event form")
    if isinstance(person, HttpResponse):
        return person
    form = EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with once(form) as first:
                if first:
                    services.log_event(
                        person=person,
                        kind=form.cleaned_data["kind"],
                        occurred_on=form.cleaned_data["occurred_on"],
                        description=form.cleaned_data["description"],
                        by=Viewer.of(request).context,
                    )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Event logged" if first else SENT_ALREADY)
            return redirect_to(request, "register:person", person.pk)
    return render(request, "risk/event.jinja", {"form": form, "person": person})


def suggested_reason(person: Person) -> str:
    """What a coordinator would most often write: the rating that changed."""
    if not person.current_rating or person.rated_on is None:
        return ""
    return f"Rated {RiskRating(person.current_rating).label} on {person.rated_on:%-d %B %Y}"


@requires(Permission.RATE_PERSON)
@require_http_methods(["GET", "POST"])
def prompts(request: HttpRequest, person_id: int) -> HttpResponse:
    """The prompts a person's rating no longer calls for, each closed with one click and a
    reason (issue 10, part 7): offered, never closed silently."""
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="prompts")
    stale = stale_prompts(viewer, person, purpose="prompts")
    form = ClosePromptForm(request.POST or None)
    valid = form.is_valid()
    for hidden in ("action", "version"):  # not a field anyone typed in: the page is stale
        if hidden in form.errors:
            del form.errors[hidden]
            form.add_error(None, "This page is out of date. Reload it and try again")
    if request.method == "POST" and valid:
        chosen = next((a for a in stale if a.pk == form.cleaned_data["action"]), None)
        if chosen is None:
            form.add_error(None, "This prompt is already closed, or still applies")
        else:
            try:
                services.close_prompt(
                    action=chosen,
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["version"],
                    by=viewer.context,
                )
            except StaleVersion:
                form.add_error(None, "Someone else updated this prompt meanwhile: check it again")
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"Closed: {chosen.description}")
                return redirect_to(request, "register:person", person.pk)
    return render(
        request,
        "risk/prompts.jinja",
        {"form": form, "person": person, "stale": stale, "reason": suggested_reason(person)},
    )
