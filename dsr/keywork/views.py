"""Keywork: allocating a keyworker, their contacts with the family, and caseloads.
Views load through the door, check, call one service, redirect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from dsr.accounts.models import User
from dsr.actions.services import possible_owners
from dsr.core import dates
from dsr.core.access import Permission, allows, limited_by_object_rule, requires
from dsr.core.door import Viewer
from dsr.core.forms import MOVES_ON, add_service_error, changed_meanwhile
from dsr.core.models import StaleVersion
from dsr.core.once import SENT_ALREADY, once
from dsr.core.routing import redirect_to
from dsr.keywork import services
from dsr.keywork.forms import AllocateForm, ContactForm, EndAllocationForm
from dsr.keywork.rows import caseload_rows
from dsr.keywork.scoping import (
    ALLOCATIONS,
    CONTACTS,
    eligible_without_keyworker,
    with_last_contact,
)
from dsr.people import services as people
from dsr.people.models import Person
from dsr.people.scoping import PEOPLE
from dsr.risk import rules

CASELOAD = "caseload"
ELIGIBLE_SHOWN = 50


def _open_person(request: HttpRequest, person_id: int, purpose: str) -> Person | HttpResponse:
    person = PEOPLE.get(Viewer.of(request), person_id, purpose=purpose)
    if not person.is_open:
        messages.info(request, "This record is closed")
        return redirect_to(request, "register:person", person.pk)
    return person


@requires(Permission.ALLOCATE_KEYWORKER)
@require_http_methods(["GET", "POST"])
def allocate(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _open_person(request, person_id, "keyworker form")
    if isinstance(person, HttpResponse):
        return person
    viewer = Viewer.of(request)
    current = next(
        iter(ALLOCATIONS.about(viewer, person, purpose="keyworker form").current()), None
    )
    form = AllocateForm(
        request.POST or None,
        keyworkers=services.keyworkers_of(person.place_id),
        initial={"started_on": dates.today()},
    )
    problems = [p for p in (services.eligibility(person),) if p]
    if not people.current_professionals(person).exists():
        problems.append(services.NOT_A_CASEHOLDER)
    if request.method == "POST" and form.is_valid():
        try:
            services.allocate_keyworker(
                person=person,
                keyworker=form.cleaned_data["keyworker"],
                started_on=form.cleaned_data["started_on"],
                by=viewer.context,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"{form.cleaned_data['keyworker']} is now the keyworker")
            return redirect_to(request, "register:person", person.pk)
    return render(
        request,
        "keywork/allocate.jinja",
        {"form": form, "person": person, "current": current, "problems": problems},
    )


@requires(Permission.ALLOCATE_KEYWORKER)
@require_http_methods(["GET", "POST"])
def allocation_end(request: HttpRequest, allocation_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    allocation = ALLOCATIONS.get(viewer, allocation_id, purpose="keyworker form")
    person = allocation.person
    if allocation.ended_on is not None:
        messages.info(request, "This allocation has already ended")
        return redirect_to(request, "register:person", person.pk)
    form = EndAllocationForm(
        request.POST or None,
        initial={"ended_on": dates.today(), "version": allocation.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.end_allocation(
                allocation=allocation,
                ended_on=form.cleaned_data["ended_on"],
                reason=form.cleaned_data["end_reason"],
                expected_version=form.cleaned_data["version"],
                by=viewer.context,
            )
        except StaleVersion:
            changed_meanwhile(form, allocation, MOVES_ON)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "The allocation has ended; it is kept in the history")
            return redirect_to(request, "register:person", person.pk)
    return render(
        request,
        "keywork/allocation_end.jinja",
        {"form": form, "person": person, "allocation": allocation},
    )


@requires(Permission.VIEW_PERSON)
@require_safe
def contact_list(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="contacts")
    logged = list(CONTACTS.about(viewer, person, purpose="contacts").select_related("recorded_by"))
    return render(request, "keywork/contacts.jinja", {"person": person, "contacts": logged})


def _owner_choices(person: Person, viewer: Viewer) -> dict[str, Any]:
    """Who may own a follow-up: the keyworker and the user logging the contact (when they
    can own actions about the person), and each professional now in the care network."""
    owners: dict[str, Any] = {}
    current = services.current_allocation(person)
    users = possible_owners(person)
    for user in [current.keyworker if current else None, viewer.context.actor]:
        if user is not None and f"user:{user.pk}" not in owners and users.filter(pk=user.pk):
            owners[f"user:{user.pk}"] = (
                user,
                f"{user.full_name} (keyworker)"
                if current and user.pk == current.keyworker_id
                else user.full_name,
            )
    for member in people.current_professionals(person).select_related("organisation"):
        label = member.name + (f", {member.job_title}" if member.job_title else "")
        owners[f"member:{member.pk}"] = (member, label)
    return owners


@requires(Permission.LOG_CONTACT)
@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = _open_person(request, person_id, "contact form")
    if isinstance(person, HttpResponse):
        return person
    viewer = Viewer.of(request)
    owners = _owner_choices(person, viewer)
    form = ContactForm(
        request.POST or None,
        owners=[(key, label) for key, (_owner, label) in owners.items()],
        initial={"contacted_on": dates.today()},
    )
    if request.method == "POST" and form.is_valid():
        follow_ups = []
        for description, owner_key, due_on in form.follow_up_rows():
            owner = owners[owner_key][0]
            follow_ups.append(
                services.FollowUp(
                    description=description,
                    due_on=due_on,
                    owner_user=owner if isinstance(owner, User) else None,
                    owner_member=None if isinstance(owner, User) else owner,
                )
            )
        try:
            with once(form) as first:
                if first:
                    services.log_contact(
                        person=person,
                        contacted_on=form.cleaned_data["contacted_on"],
                        kind=form.cleaned_data["kind"],
                        with_whom=form.cleaned_data["with_whom"],
                        summary=form.cleaned_data["summary"],
                        follow_ups=follow_ups,
                        by=viewer.context,
                    )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            added = f" and {len(follow_ups)} follow-up(s) added as actions" if follow_ups else ""
            messages.success(request, f"Contact logged{added}" if first else SENT_ALREADY)
            return redirect_to(request, "register:person", person.pk)
    return render(request, "keywork/contact_new.jinja", {"form": form, "person": person})


# --- Caseloads ---------------------------------------------------------------------------


def _contact_cutoff(request: HttpRequest) -> Any:
    """A contact is overdue when the last (or the allocation, if none yet) is older than the
    place's contact interval."""
    interval = request.place.settings.keyworker_contact_days  # type: ignore[attr-defined]
    return dates.today() - timedelta(days=interval)


def _per_keyworker(allocations: Any) -> Subquery:
    counted = (
        allocations.filter(keyworker=OuterRef("pk"))
        .order_by()
        .values("keyworker")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _overdue(allocations: Any, cutoff: Any) -> Any:
    return with_last_contact(allocations).filter(
        Q(last_contact_on__lt=cutoff) | Q(last_contact_on__isnull=True, started_on__lt=cutoff)
    )


@requires(Permission.VIEW_CASELOAD)
@require_safe
def caseloads(request: HttpRequest) -> HttpResponse:
    """Every keyworker's caseload, in counts; and who is eligible with no keyworker."""
    viewer = Viewer.of(request)
    membership = viewer.membership
    if limited_by_object_rule(membership, Permission.VIEW_CASELOAD):
        return redirect_to(request, "keywork:caseload", membership.user_id)  # their own
    current = ALLOCATIONS.list(viewer, purpose=CASELOAD).current()
    cutoff = _contact_cutoff(request)
    keyworkers = services.keyworkers_of(membership.place_id).annotate(
        caseload=_per_keyworker(current),
        overdue=_per_keyworker(_overdue(current, cutoff)),
        red=_per_keyworker(current.filter(person__current_rating="R")),
        amber=_per_keyworker(current.filter(person__current_rating="A")),
        blue=_per_keyworker(current.filter(person__current_rating="B")),
    )
    eligible = eligible_without_keyworker(viewer, PEOPLE.list(viewer, purpose=CASELOAD))
    waiting = list(
        eligible.order_by("family_name", "given_name", "id").only(
            "id", "place_id", "given_name", "family_name", "date_of_birth", "current_rating"
        )[:ELIGIBLE_SHOWN]
    )
    return render(
        request,
        "keywork/caseloads.jinja",
        {"keyworkers": list(keyworkers), "waiting": waiting, "waiting_count": eligible.count()},
    )


@requires(Permission.VIEW_CASELOAD)
@require_safe
def caseload(request: HttpRequest, keyworker_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    keyworker = services.keyworkers_of(viewer.membership.place_id).filter(pk=keyworker_id).first()
    if keyworker is None or not allows(viewer.membership, Permission.VIEW_CASELOAD, keyworker):
        viewer.deny(
            reason="caseload of another keyworker",
            person_id=None,
            place_id=viewer.membership.place_id,
        )
        raise Http404("Not found")
    policy = request.place.settings  # type: ignore[attr-defined]
    rows = list(
        with_last_contact(
            ALLOCATIONS.list(viewer, purpose=CASELOAD).current().filter(keyworker=keyworker)
        )
        .select_related("person")
        .order_by("person__family_name", "person__given_name", "id")
    )
    today = dates.today()
    for row in rows:
        since = row.last_contact_on or row.started_on
        row.contact_due = since + timedelta(days=policy.keyworker_contact_days)
        row.contact_overdue = row.contact_due < today
        row.eligible = rules.keyworker_eligible(policy, row.person.current_rating, row.person.age)
    counts = {
        "people": len(rows),
        "overdue": sum(r.contact_overdue for r in rows),
        "never": sum(r.last_contact_on is None for r in rows),
        **{code: sum(r.person.current_rating == code for r in rows) for code in "RAGB"},
    }
    return render(
        request,
        "keywork/caseload.jinja",
        {
            "keyworker": keyworker,
            "rows": rows,
            "rows_html": caseload_rows(rows, viewer.membership.place_id),
            "counts": counts,
            "policy": policy,
        },
    )
