"""The register list and the person record. Views load, check, call one service, redirect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Q, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dsr.core import audit, dates, nhs_number
from dsr.core.access import Permission, requires, role_has
from dsr.core.models import AuditEvent, StaleVersion
from dsr.people import services
from dsr.people.forms import (
    SORTS,
    CloseForm,
    EditPersonForm,
    NewPersonForm,
    RegisterFilterForm,
    parse_date_query,
    require_checked_duplicates,
)
from dsr.people.models import Person
from dsr.people.scoping import get_person_or_404, visible_people

PAGE_SIZE = 50
# Red first, then Blue (inpatients), Amber, Green.
RATING_ORDER = Case(
    When(current_rating="R", then=Value(0)),
    When(current_rating="B", then=Value(1)),
    When(current_rating="A", then=Value(2)),
    When(current_rating="G", then=Value(3)),
    default=Value(4),
)
STALE_MESSAGE = (
    "Someone else changed this record while you were editing it. "
    "Their changes are shown below: check them and make your change again"
)


def _search(people: Any, query: str) -> Any:
    query = query.strip()
    if not query:
        return people
    if nhs_number.looks_like(query):
        return people.filter(nhs_number=nhs_number.normalise(query))
    date_of_birth = parse_date_query(query)
    if date_of_birth is not None:
        return people.filter(date_of_birth=date_of_birth)
    for word in query.split()[:3]:
        people = people.filter(
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(preferred_name__icontains=word)
        )
    return people


@requires(Permission.VIEW_REGISTER)
def register(request: HttpRequest) -> HttpResponse:
    form = RegisterFilterForm(request.GET)
    form.is_valid()  # invalid values fall back to the defaults in clean_*
    query = form.cleaned_data.get("q", "") if "q" not in form.errors else ""
    status = form.cleaned_data.get("status") or "open"
    sort = form.cleaned_data.get("sort") or "name"
    people = visible_people(request)
    if status != "all":
        people = people.filter(status=status)
    if rating := form.cleaned_data.get("rating"):
        people = people.filter(current_rating=rating)
    today = dates.today()
    review = form.cleaned_data.get("review")
    if review == "overdue":
        people = people.filter(review_due__lt=today)
    elif review == "soon":
        soon = today + timedelta(days=request.place.settings.review_due_soon_days)  # type: ignore[attr-defined]
        people = people.filter(review_due__lte=soon)
    elif review == "now":
        people = people.filter(review_now=True)
    if sort == "rating":
        people = people.annotate(rating_order=RATING_ORDER)
    people = _search(people, query).order_by(*SORTS[sort])
    people = people.only(
        "id",
        "current_rating",
        "review_due",
        "review_now",
        "given_name",
        "family_name",
        "preferred_name",
        "date_of_birth",
        "nhs_number",
        "accommodation",
        "status",
        "place_id",
    )
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    if query:
        services.record_search(
            terms={"q": query, "status": status},
            results=page.paginator.count,
            by=audit.Context.of(request),
        )
    return render(
        request,
        "people/register.jinja",
        {"form": form, "page": page, "query": query, "status": status, "sort": sort},
    )


def _duplicates_for_display(
    request: HttpRequest, found: list[services.Duplicate]
) -> list[dict[str, Any]]:
    visible = set(
        visible_people(request)
        .filter(pk__in=[d.person_id for d in found])
        .values_list("pk", flat=True)
    )
    return [
        {"person_id": d.person_id if d.person_id in visible else None, "reason": d.reason}
        for d in found
    ]


@requires(Permission.ADD_PERSON)
@require_http_methods(["GET", "POST"])
def person_new(request: HttpRequest) -> HttpResponse:
    place = request.place  # type: ignore[attr-defined]
    form = NewPersonForm(request.POST or None, policy=place.settings)
    duplicates: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        found = services.likely_duplicates(
            nhs=form.cleaned_data["nhs_number"],
            given_name=form.cleaned_data["given_name"],
            family_name=form.cleaned_data["family_name"],
            date_of_birth=form.cleaned_data["date_of_birth"],
        )
        duplicates = _duplicates_for_display(request, found)
        require_checked_duplicates(form, found)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k in services.EDITABLE_FIELDS}
            try:
                person = services.add_to_register(
                    place=place,
                    data=data,
                    rating=form.cleaned_data["rating"],
                    rationale=form.cleaned_data["rationale"],
                    factors=form.cleaned_data["factors"],
                    by=audit.Context.of(request),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"{person.full_name} has been added to the register")
                return redirect("people:detail", person_id=person.pk)
    return render(
        request,
        "people/person_form.jinja",
        {"form": form, "duplicates": duplicates, "person": None},
    )


@requires(Permission.VIEW_PERSON)
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_person_or_404(request, person_id)
    services.record_view(person=person, by=audit.Context.of(request))
    membership = request.membership  # type: ignore[attr-defined]
    ratings = list(
        person.ratings.select_related("decided_by", "review").prefetch_related("factors")[:50]
    )
    actions = list(
        person.actions.select_related("owner_user", "owner_organisation").order_by(
            "status", "due_on", "id"
        )[:50]
    )
    allows = {p: role_has(membership.role, p) for p in Permission}
    return render(
        request,
        "people/person_detail.jinja",
        {
            "person": person,
            "ratings": ratings,
            "signals": list(person.signals.filter(cleared_by__isnull=True)),
            "events": list(person.events.all()[:20]),
            "open_actions": [a for a in actions if a.status == "open"],
            "closed_actions": [a for a in actions if a.status != "open"],
            "allows": allows,
        },
    )


@requires(Permission.EDIT_PERSON)
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_person_or_404(request, person_id)
    if not person.is_open:
        messages.info(request, "Closed records cannot be changed")
        return redirect("people:detail", person_id=person.pk)
    policy = person.place.settings
    problems: list[str] = []
    if request.method == "POST":
        form = EditPersonForm(request.POST, instance=person, policy=policy)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k in services.EDITABLE_FIELDS}
            try:
                services.update_person(
                    person=Person.objects.get(pk=person.pk),
                    data=data,
                    expected_version=form.cleaned_data["version"],
                    by=audit.Context.of(request),
                )
            except StaleVersion:
                # Show the newer record as it now stands; the user's edit is not applied.
                person.refresh_from_db()
                form = EditPersonForm(
                    instance=person, policy=policy, initial={"version": person.version}
                )
                problems = [STALE_MESSAGE]
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Changes saved")
                return redirect("people:detail", person_id=person.pk)
    else:
        form = EditPersonForm(instance=person, policy=policy, initial={"version": person.version})
        services.record_view(person=person, by=audit.Context.of(request), what="edit form")
    return render(
        request,
        "people/person_form.jinja",
        {"form": form, "person": person, "duplicates": [], "problems": problems},
    )


@requires(Permission.CLOSE_PERSON)
@require_http_methods(["GET", "POST"])
def person_close(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_person_or_404(request, person_id)
    if not person.is_open:
        messages.info(request, "This record is already closed")
        return redirect("people:detail", person_id=person.pk)
    form = CloseForm(request.POST or None, initial={"version": person.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.close_record(
                person=person,
                reason=form.cleaned_data["closure_reason"],
                closed_on=form.cleaned_data["closed_on"],
                note=form.cleaned_data["closure_note"],
                expected_version=form.cleaned_data["version"],
                by=audit.Context.of(request),
            )
        except StaleVersion:
            form.add_error(None, STALE_MESSAGE)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{person.full_name}'s record has been closed")
            return redirect("people:detail", person_id=person.pk)
    if request.method == "GET":
        services.record_view(person=person, by=audit.Context.of(request), what="close form")
    return render(request, "people/person_close.jinja", {"form": form, "person": person})


@requires(Permission.VIEW_PERSON_ACCESS)
def person_access(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_person_or_404(request, person_id)
    events = AuditEvent.objects.filter(person_id=person.pk).select_related("actor").order_by("-id")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    services.record_view(person=person, by=audit.Context.of(request), what="access history")
    return render(request, "people/person_access.jinja", {"person": person, "page": page})
