"""The care network: who is around the person now and before, adding, editing and ending.
Views load through the door, check, call one service, redirect."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
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
from dsr.people import services
from dsr.people.choices import MemberKind
from dsr.people.models import NetworkMember, Person
from dsr.people.network_forms import (
    EditFamilyForm,
    EditProfessionalForm,
    EndMemberForm,
    NewFamilyForm,
    NewProfessionalForm,
)
from dsr.people.scoping import NETWORK, PEOPLE
from dsr.places.services import organisations_of


def _choices(person: Person) -> dict[str, Any]:
    return {
        "organisations": organisations_of(person.place),
        "partners": services.linkable_partners(person.place_id),
    }


@requires(Permission.VIEW_PERSON)
@require_safe
def network_page(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="care network")
    members = list(
        NETWORK.about(viewer, person, purpose="care network").select_related("organisation", "user")
    )
    return render(
        request,
        "people/network.jinja",
        {
            "person": person,
            "current": [m for m in members if m.ended_on is None],
            "past": sorted(
                (m for m in members if m.ended_on is not None),
                key=lambda m: (m.ended_on, m.pk),
                reverse=True,
            ),
        },
    )


@requires(Permission.MANAGE_NETWORK)
@require_http_methods(["GET", "POST"])
def member_new(request: HttpRequest, person_id: int, kind: str) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="care network form")
    if not person.is_open:
        messages.info(request, "Closed records take no new care network members")
        return redirect_to(request, "people:network", person.pk)
    professional = kind == MemberKind.PROFESSIONAL
    initial = {"started_on": dates.today()}
    form: Any = (
        NewProfessionalForm(request.POST or None, initial=initial, **_choices(person))
        if professional
        else NewFamilyForm(request.POST or None, initial=initial)
    )
    if request.method == "POST" and form.is_valid():
        try:
            with once(form) as first:
                if first:
                    services.add_network_member(
                        person=person,
                        kind=kind,
                        started_on=form.cleaned_data["started_on"],
                        by=viewer.context,
                        **form.member_data(),
                    )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"{form.cleaned_data['name']} added to the care network" if first else SENT_ALREADY,
            )
            return redirect_to(request, "people:network", person.pk)
    return render(
        request,
        "people/network_member_form.jinja",
        {"form": form, "person": person, "professional": professional, "member": None},
    )


def _member(request: HttpRequest, member_id: int, purpose: str) -> NetworkMember:
    return NETWORK.get(
        Viewer.of(request), member_id, purpose=purpose, permission=Permission.MANAGE_NETWORK
    )


def _as_saved(member: NetworkMember) -> dict[str, Any]:
    """A member's values as the edit form shows them."""
    saved = {
        name: getattr(member, name)
        for name in services.care_network.EDITABLE
        if name not in ("organisation", "user")
    }
    return saved | {
        "organisation": member.organisation_id,
        "user": member.user_id,
        "version": member.version,
    }


@requires(Permission.MANAGE_NETWORK)
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member(request, member_id, "care network form")
    person = member.person
    if member.ended_on is not None or not person.is_open:
        messages.info(request, "This entry is kept as history and cannot be changed")
        return redirect_to(request, "people:network", person.pk)
    professional = member.kind == MemberKind.PROFESSIONAL
    initial = _as_saved(member)
    form: Any = (
        EditProfessionalForm(request.POST or None, initial=initial, **_choices(person))
        if professional
        else EditFamilyForm(request.POST or None, initial=initial)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_network_member(
                member=member,
                data=form.member_data(),
                expected_version=form.cleaned_data["version"],
                by=Viewer.of(request).context,
            )
        except StaleVersion:
            saved = _member(request, member_id, "care network form")
            changed_meanwhile(form, saved, _as_saved(saved))
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Changes saved")
            return redirect_to(request, "people:network", person.pk)
    return render(
        request,
        "people/network_member_form.jinja",
        {"form": form, "person": person, "professional": professional, "member": member},
    )


@requires(Permission.MANAGE_NETWORK)
@require_http_methods(["GET", "POST"])
def member_end(request: HttpRequest, member_id: int) -> HttpResponse:
    member = _member(request, member_id, "care network form")
    person = member.person
    if member.ended_on is not None or not person.is_open:
        messages.info(request, "This entry is kept as history and cannot be changed")
        return redirect_to(request, "people:network", person.pk)
    form = EndMemberForm(
        request.POST or None, initial={"ended_on": dates.today(), "version": member.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.end_network_member(
                member=member,
                ended_on=form.cleaned_data["ended_on"],
                expected_version=form.cleaned_data["version"],
                by=Viewer.of(request).context,
            )
        except StaleVersion:
            changed_meanwhile(form, member, MOVES_ON)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"{member.name} has left the care network; kept as history")
            return redirect_to(request, "people:network", person.pk)
    return render(
        request,
        "people/network_member_end.jinja",
        {"form": form, "person": person, "member": member},
    )
