"""The register: its list, adding a person, the person page, and rising risk.

These pages sit above the domain apps (ADR 0011): they compose people, risk and actions,
reading every record through its door (ADR 0009).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from dsr.core import dates, nhs_number, text
from dsr.core.access import Permission, allows, requires
from dsr.core.door import Viewer
from dsr.core.forms import Form, add_service_error
from dsr.core.once import SENT_ALREADY, once
from dsr.core.panels import panels_for
from dsr.core.routing import redirect_to
from dsr.people import services as people
from dsr.people import sharing, transitions
from dsr.people.choices import Status
from dsr.people.scoping import PEOPLE
from dsr.register.forms import SORTS, NewPersonForm, RegisterFilterForm, parse_date_query
from dsr.register.panels import transitions_and_plans
from dsr.register.rows import register_rows
from dsr.register.services import add_to_register, open_transition_plan
from dsr.risk.scoping import SIGNALS

PAGE_SIZE = 50
RISING_RISK_PEOPLE = 200
# Red first, then Blue (inpatients), Amber, Green.
RATING_ORDER = Case(
    When(current_rating="R", then=Value(0)),
    When(current_rating="B", then=Value(1)),
    When(current_rating="A", then=Value(2)),
    When(current_rating="G", then=Value(3)),
    default=Value(4),
)
REGISTER_COLUMNS = (
    "id",
    "current_rating",
    "review_due",
    "review_now",
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "nhs_number",
    "status",
    "place_id",
    "consent_state",
)


def _search(found: Any, query: str) -> Any:
    """By NHS number (any spacing), date of birth, or the starts of name words, with case,
    accents and apostrophes folded ("sian" finds Siân; "OBRIEN, Aoife" finds Aoife O’Brien)."""
    if not query:
        return found
    if nhs_number.looks_like(query):
        return found.filter(nhs_number=nhs_number.normalise(query))
    date_of_birth = parse_date_query(query)
    if date_of_birth is not None:
        return found.filter(date_of_birth=date_of_birth)
    typed = text.words(query)
    if not typed:
        return found.none()  # "%", "'", "-": nothing to look for, so no one
    for word in typed[:4]:
        found = found.filter(search_name__contains=f" {word}")
    return found


@requires(Permission.VIEW_REGISTER)
@require_safe
def register_list(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request)
    form = RegisterFilterForm(request.GET)
    form.is_valid()
    query = form.value("q").strip()
    status = form.value("status", Status.OPEN)
    sort = form.value("sort", "name")
    rating = form.value("rating")
    review = form.value("review")
    terms = {k: v for k, v in {"q": query, "rating": rating, "review": review}.items() if v}
    found = PEOPLE.list(
        viewer,
        purpose="register search" if terms else "register",
        terms={**terms, "status": status},
        unlisted_too=True,  # counted below, then kept from the list
    )
    if "q" in form.errors:
        found = found.none()  # a search that cannot be a name is an error, not everyone
    if status != "all":
        found = found.filter(status=status)
    if rating:
        found = found.filter(current_rating=rating)
    today = dates.today()
    if review == "overdue":
        found = found.filter(review_due__lt=today)
    elif review == "soon":
        soon = today + timedelta(days=request.place.settings.review_due_soon_days)  # type: ignore[attr-defined]
        found = found.filter(review_due__lte=soon)
    elif review == "now":
        found = found.filter(review_now=True)
    # A restricted person (consent withdrawn) is listed to coordinators only; others are
    # told how many records they cannot see, never who (ADR 0019).
    audience = sharing.Audience.of(viewer)
    restricted = 0
    if not query and sharing.shareable(audience):
        restricted = found.exclude(sharing.shareable(audience)).count()
    found = sharing.searchable(found, audience)
    if sort == "rating":
        found = found.annotate(rating_order=RATING_ORDER)
    found = _search(found, query).order_by(*SORTS[sort]).only(*REGISTER_COLUMNS)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)  # the fetch that records who was shown
    policy = request.place.settings  # type: ignore[attr-defined]
    # Approaching 18 or 25 (issue 10, part 6): from the date of birth, no query.
    approaching = transitions.windows(policy, today)
    flags = {
        p.pk: transitions.flagged(approaching, p.date_of_birth)
        for p in shown
        if p.status == Status.OPEN
    }
    return render(
        request,
        "register/list.jinja",
        {
            "form": form,
            "page": page,
            "shown": shown,
            "rows": register_rows(shown, flags, request.place.pk),  # type: ignore[attr-defined]
            "query": query,
            "status": status,
            "filtered": bool(terms) or status != Status.OPEN,
            "restricted": restricted,
        },
    )


@requires(Permission.ADD_PERSON)
@require_http_methods(["GET", "POST"])
def person_add(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request)
    place = request.place  # type: ignore[attr-defined]
    form = NewPersonForm(request.POST or None, policy=place.settings)
    duplicates = people.Duplicates()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        duplicates = people.find_duplicates(
            place=place,
            nhs=data["nhs_number"],
            given_name=data["given_name"],
            family_name=data["family_name"],
            date_of_birth=data["date_of_birth"],
            by=viewer.context,
        )
        if duplicates.number_taken:
            # An open record has this number: no confirming past it (one open record each).
            form.add_error("nhs_number", duplicates.number_taken)
        elif duplicates and not data.get("confirm_not_duplicate"):
            form.require_checked()
        if form.is_valid():
            try:
                with once(form) as first:
                    person = (
                        add_to_register(
                            place=place,
                            data=form.person_data(),
                            rating=data["rating"],
                            rationale=data["rationale"],
                            factors=data["factors"],
                            by=viewer.context,
                        )
                        if first
                        else None
                    )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                if person is None:
                    messages.success(request, SENT_ALREADY)
                    return redirect_to(request, "register:list")
                messages.success(request, f"{person.full_name} has been added to the register")
                return redirect_to(request, "register:person", person.pk)
    return render(
        request,
        "register/person_add.jinja",
        {
            "form": form,
            "duplicates": duplicates,
            "on_another_register": people.ON_ANOTHER_REGISTER,
        },
    )


@requires(Permission.VIEW_PERSON)
@require_safe
def person_detail(request: HttpRequest, person_id: int) -> HttpResponse:
    """The person page: a heading, then each app's panel (core/panels.py)."""
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="record")
    identity = sharing.identify(person, sharing.Audience.of(viewer))
    if identity.restricted:
        # Consent withdrawn: this viewer learns only that the record is restricted.
        return render(request, "register/person_restricted.jinja", {"identity": identity})
    return render(
        request,
        "register/person.jinja",
        {
            "person": person,
            "panels": panels_for(viewer, person),
            "allows": {p: allows(viewer.membership, p) for p in Permission},
        },
    )


@requires(Permission.VIEW_RISING_RISK)
@require_safe
def rising_risk(request: HttpRequest) -> HttpResponse:
    """People on the open register whose recent events flag a review now, and why."""
    signals = (
        SIGNALS.list(Viewer.of(request), purpose="rising risk")
        .open()
        .filter(person__status=Status.OPEN)
        .select_related("person")
        .order_by("-fired_on", "-id")[: RISING_RISK_PEOPLE * 4]
    )
    flagged: dict[int, dict[str, Any]] = {}
    for signal in signals:
        row = flagged.setdefault(
            signal.person_id, {"person": signal.person, "since": signal.fired_on, "why": []}
        )
        row["why"].append(signal.explanation)
        row["since"] = min(row["since"], signal.fired_on)
    rows = list(flagged.values())[:RISING_RISK_PEOPLE]
    return render(request, "register/rising_risk.jinja", {"rows": rows})


@requires(Permission.ADD_ACTION)
@require_http_methods(["GET", "POST"])
def transition(request: HttpRequest, person_id: int) -> HttpResponse:
    """Approaching 18 or 25: open the transition plan action (issue 10, part 6)."""
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="transition")
    due = transitions_and_plans(viewer, person, purpose="transition")["transitions"]
    problems: list[str] = []
    if request.method == "POST":
        key = request.POST.get("transition", "")
        if key not in {t.key for t, plan in due if plan is None}:
            problems.append("Choose a transition that has no plan action yet")
        else:
            try:
                action = open_transition_plan(person=person, key=key, by=viewer.context)
            except ValidationError as error:
                problems.extend(error.messages)
            else:
                messages.success(request, f"Action opened: {action.description}")
                return redirect_to(request, "register:person", person.pk)
    return render(
        request,
        "register/transition.jinja",
        {"person": person, "transitions": due, "problems": problems, "form": Form()},
    )
