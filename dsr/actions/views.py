"""Adding an action to a person and recording its progress."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from dsr.accounts.models import User
from dsr.actions import services
from dsr.actions.forms import ActionForm, ActionUpdateForm
from dsr.actions.models import Action, ActionSource
from dsr.core import audit
from dsr.core.access import Permission, requires
from dsr.core.models import StaleVersion
from dsr.people.scoping import get_person_or_404, visible_people
from dsr.people.services import record_view
from dsr.places.models import Organisation

STALE = "Someone else updated this action while you were working. Check the history and try again"


def get_action_or_404(request: HttpRequest, action_id: int) -> Action:
    action = (
        Action.objects.filter(pk=action_id, person__in=visible_people(request))
        .select_related("person", "owner_user", "owner_organisation")
        .first()
    )
    if action is not None:
        return action
    person_id = Action.objects.filter(pk=action_id).values_list("person_id", flat=True).first()
    if person_id is not None:
        audit.record_denied(request=request, reason="outside scope", person_id=person_id)
    raise Http404("Not found")


@requires(Permission.ADD_ACTION)
@require_http_methods(["GET", "POST"])
def action_new(request: HttpRequest, person_id: int) -> HttpResponse:
    person = get_person_or_404(request, person_id)
    place = request.place  # type: ignore[attr-defined]
    form = ActionForm(
        request.POST or None,
        users=User.objects.filter(memberships__place=place, memberships__is_active=True).order_by(
            "full_name"
        ),
        organisations=Organisation.objects.filter(place=place),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.open_action(
                person=person,
                description=data["description"],
                due_on=data["due_on"],
                source=ActionSource.OTHER,
                owner_user=data["owner_user"],
                owner_name=data["owner_name"],
                owner_organisation=data["owner_organisation"],
                by=audit.Context.of(request),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Action added")
            return redirect("people:detail", person_id=person.pk)
    if request.method == "GET":
        record_view(person=person, by=audit.Context.of(request), what="new action form")
    return render(request, "actions/action_new.jinja", {"form": form, "person": person})


@requires(Permission.UPDATE_ACTION)
@require_http_methods(["GET", "POST"])
def action_update(request: HttpRequest, action_id: int) -> HttpResponse:
    action = get_action_or_404(request, action_id)
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
                by=audit.Context.of(request),
            )
        except StaleVersion:
            form.add_error(None, STALE)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Action updated")
            return redirect("actions:update", action_id=action.pk)
    updates = list(action.updates.select_related("by"))
    audit.record_read(
        context=audit.Context.of(request),
        page="action",
        obj=action,
        person_id=action.person_id,
        place_id=action.place_id,
    )
    return render(
        request, "actions/action_update.jinja", {"form": form, "action": action, "updates": updates}
    )
