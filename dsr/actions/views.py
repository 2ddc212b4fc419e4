"""Adding an action to a person and recording its progress."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from dsr.actions import services
from dsr.actions.forms import ActionForm, ActionUpdateForm
from dsr.actions.models import ActionSource
from dsr.actions.scoping import ACTION_UPDATES, ACTIONS
from dsr.core.access import Permission, requires
from dsr.core.door import Viewer
from dsr.core.forms import add_service_error, changed_meanwhile
from dsr.core.models import StaleVersion
from dsr.core.once import SENT_ALREADY, once
from dsr.core.routing import redirect_to
from dsr.people.scoping import PEOPLE
from dsr.places.services import organisations_of


@requires(Permission.ADD_ACTION)
@require_http_methods(["GET", "POST"])
def action_new(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="new action form")
    if not person.is_open:
        messages.info(request, "Closed records take no new actions")
        return redirect_to(request, "register:person", person.pk)
    form = ActionForm(
        request.POST or None,
        users=services.possible_owners(person),
        organisations=organisations_of(person.place),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with once(form) as first:
                if first:
                    services.open_action(
                        person=person,
                        description=data["description"],
                        due_on=data["due_on"],
                        source=ActionSource.OTHER,
                        owner_user=data["owner_user"],
                        owner_name=data["owner_name"],
                        owner_organisation=data["owner_organisation"],
                        by=viewer.context,
                    )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Action added" if first else SENT_ALREADY)
            return redirect_to(request, "register:person", person.pk)
    return render(request, "actions/action_new.jinja", {"form": form, "person": person})


@requires(Permission.UPDATE_ACTION)
@require_http_methods(["GET", "POST"])
def action_update(request: HttpRequest, action_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    # A partner reaches only the actions they own (the object rule, core/access.py).
    action = ACTIONS.get(viewer, action_id, purpose="action", permission=Permission.UPDATE_ACTION)
    form = ActionUpdateForm(
        request.POST or None, initial={"status": action.status, "version": action.version}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_action(
                action=action,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
                by=viewer.context,
            )
        except StaleVersion:
            saved = ACTIONS.get(viewer, action_id, purpose="action")
            changed_meanwhile(form, saved, {"status": saved.status})
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Action updated")
            return redirect_to(request, "actions:update", action.pk)
    updates = ACTION_UPDATES.about(
        viewer, action.person, purpose="action", action=action
    ).select_related("by")
    return render(
        request,
        "actions/action_update.jinja",
        {"form": form, "action": action, "updates": list(updates)},
    )
