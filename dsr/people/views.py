"""Editing and closing a person's record, and who has accessed it.

Views load through the door, check, call one service, redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from dsr.core import audit
from dsr.core.access import Permission, requires
from dsr.core.door import Viewer
from dsr.core.forms import MOVES_ON, add_service_error, changed_meanwhile
from dsr.core.models import StaleVersion
from dsr.core.routing import redirect_to
from dsr.people import services
from dsr.people.forms import (
    CloseForm,
    EditPersonForm,
    changed_since,
    describe,
    fingerprint,
    typed_changes,
)
from dsr.people.scoping import PEOPLE

PAGE_SIZE = 50
STALE_MESSAGE = (
    "Someone else changed this record while you were editing it. Your changes have not been "
    "saved yet: they are kept below. Check what the record now says, then save again"
)


@requires(Permission.EDIT_PERSON)
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="edit form")
    if not person.is_open:
        messages.info(request, "Closed records cannot be changed")
        return redirect_to(request, "register:person", person.pk)
    may_change_nhs_number = services.may_match_across_places(viewer.context)
    options = {"policy": person.place.settings, "may_change_nhs_number": may_change_nhs_number}
    problems: list[str] = []
    changed: list[tuple[str, str]] = []
    if request.method == "POST":
        form = EditPersonForm(request.POST, instance=person, **options)
        if form.is_valid():
            try:
                saved = services.update_person(
                    person=person,
                    data=form.person_data(),
                    expected_version=form.cleaned_data["version"],
                    by=viewer.context,
                )
            except StaleVersion:
                # Keep what they typed; show what changed since they opened the form, and
                # offer the record as it now stands with their own changes on top.
                person.refresh_from_db()
                loaded = form.cleaned_data.get("loaded") or ""
                changed = [
                    (str(form.fields[name].label), describe(person, name))
                    for name in changed_since(loaded, person)
                ]
                form = EditPersonForm(
                    instance=person,
                    initial={
                        **typed_changes(loaded, form.person_data()),
                        "version": person.version,
                        "loaded": fingerprint(person),
                    },
                    **options,
                )
                problems = [STALE_MESSAGE]
            except ValidationError as error:
                add_service_error(form, error)
            else:
                unchanged = saved.version == form.cleaned_data["version"]
                messages.success(request, "No changes to save" if unchanged else "Changes saved")
                return redirect_to(request, "register:person", person.pk)
    else:
        form = EditPersonForm(
            instance=person,
            initial={"version": person.version, "loaded": fingerprint(person)},
            **options,
        )
    return render(
        request,
        "people/person_edit.jinja",
        {"form": form, "person": person, "problems": problems, "changed": changed},
    )


@requires(Permission.CLOSE_PERSON)
@require_http_methods(["GET", "POST"])
def person_close(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="close form")
    if not person.is_open:
        messages.info(request, "This record is already closed")
        return redirect_to(request, "register:person", person.pk)
    form = CloseForm(request.POST or None, initial={"version": person.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.close_record(
                person=person,
                reason=form.cleaned_data["closure_reason"],
                closed_on=form.cleaned_data["closed_on"],
                note=form.cleaned_data["closure_note"],
                expected_version=form.cleaned_data["version"],
                by=viewer.context,
            )
        except StaleVersion:
            changed_meanwhile(form, person, MOVES_ON)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"{person.full_name}'s record has been closed")
            return redirect_to(request, "register:person", person.pk)
    return render(request, "people/person_close.jinja", {"form": form, "person": person})


@requires(Permission.VIEW_PERSON_ACCESS)
@require_safe
def person_access(request: HttpRequest, person_id: int) -> HttpResponse:
    """Every event about the person: their own pages, and every list that showed them."""
    person = PEOPLE.get(Viewer.of(request), person_id, purpose="access history")
    events = audit.events_about(person.pk).select_related("actor")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "people/person_access.jinja", {"person": person, "page": page})
