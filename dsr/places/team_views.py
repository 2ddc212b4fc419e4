"""The place admin's pages for the place's users (ADR 0016): the list, inviting, and each
member's page with its actions. Each action is a POST of its own, sent by a button that
confirms it; views check, call one service, redirect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.accounts import services as accounts
from dsr.accounts.models import EnrolmentLink, ExternalIdentity
from dsr.core import audit, outbox
from dsr.core.access import Permission, requires
from dsr.core.door import of_acting_place
from dsr.core.forms import add_service_error, posted
from dsr.core.routing import redirect_to
from dsr.places import team
from dsr.places.forms import ROLE_HINTS, ConfirmForm, InviteForm, RoleForm
from dsr.places.models import Membership
from dsr.places.services import organisations_of


def _members(place: Any) -> Any:
    """The place's memberships with what their status needs, in one query."""
    user = OuterRef("user_id")
    live_link = EnrolmentLink.objects.filter(
        user_id=user, used_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-expires_at")
    return (
        Membership.objects.filter(place=place)
        .select_related("user", "organisation")
        .annotate(
            has_device=Exists(TOTPDevice.objects.filter(user_id=user, confirmed=True)),
            has_identity=Exists(ExternalIdentity.objects.filter(user_id=user)),
            no_password=Q(user__password__startswith=UNUSABLE_PASSWORD_PREFIX),
            link_expires=Subquery(live_link.values("expires_at")[:1]),
            locked=Exists(accounts.locked(OuterRef("user__email"))),
        )
        .order_by("-is_active", "user__full_name", "user__email")
    )


def status_of(member: Any) -> str:
    if not member.user.is_active:
        return "Account deactivated"
    if not member.is_active:
        return "Access removed"
    if member.has_identity or (member.has_device and not member.no_password):
        return "Active"
    if member.link_expires is not None:
        return f"Invited, not set up yet (link expires {member.link_expires:%-d %B %Y})"
    return "Invitation expired: send a new one"


def _member(request: HttpRequest, membership_id: int) -> Any:
    return of_acting_place(request, _members(request.place), membership_id)  # type: ignore[attr-defined]


def _send_now(email: Any, to: str, what: str) -> str:
    """Send the email just queued, after its transaction committed (what fails waits for
    the next `send_outbox` run), and say what became of it: a page that said it was sent
    when the mail server had refused it left the admin waiting for nothing (review)."""
    if email is None:
        return f"We have sent {to} {what}"
    counts = outbox.send_pending(only=[email.pk])
    if counts["sent"]:
        return f"We have sent {to} {what}"
    if counts["unknown"]:
        outcome = "may not have been sent: the mail server stopped answering"
    else:
        outcome = "could not be sent yet: the register will try again in a few minutes"
    return (
        f"{what[0].upper()}{what[1:]} to {to} {outcome}."
        " If it has not arrived within the hour, send another"
    )


@requires(Permission.MANAGE_USERS)
@require_safe
def users(request: HttpRequest) -> HttpResponse:
    members = list(_members(request.place))  # type: ignore[attr-defined]
    rows = [(m, status_of(m)) for m in members]
    return render(request, "places/users.jinja", {"rows": rows})


@requires(Permission.MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def invite(request: HttpRequest) -> HttpResponse:
    place = request.place  # type: ignore[attr-defined]
    form = InviteForm(posted(request), organisations=organisations_of(place))
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                invited = team.invite_user(
                    place=place,
                    email=data["email"],
                    full_name=data["full_name"],
                    job_title=data["job_title"],
                    role=data["role"],
                    organisation=data["organisation"],
                    by=audit.Context.of(request),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                what = "an invitation" if invited.token else "an email about their new role"
                messages.success(request, _send_now(invited.email, data["email"], what))
                return redirect_to(request, "places:users")
        else:
            audit.record_refused(
                context=audit.Context.of(request),
                place_id=place.pk,
                what="invitation",
                reason="invalid",
                fields=sorted(form.errors),
            )
    return render(request, "places/invite.jinja", {"form": form, "role_hints": ROLE_HINTS})


@requires(Permission.MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def member(request: HttpRequest, membership_id: int) -> HttpResponse:
    """A member's page; its form gives them another role (POST)."""
    found = _member(request, membership_id)
    place = request.place  # type: ignore[attr-defined]
    initial = {
        "role": found.role,
        "organisation": found.organisation_id,
        "expected_role": found.role,
    }
    form = RoleForm(posted(request), initial=initial, organisations=organisations_of(place))
    if request.method == "POST":
        if form.is_valid():
            try:
                team.change_role(
                    membership=found,
                    role=form.cleaned_data["role"],
                    expected_role=form.cleaned_data["expected_role"],
                    organisation=form.cleaned_data["organisation"],
                    by=audit.Context.of(request),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, f"{found.user.full_name}'s role is saved")
                return redirect_to(request, "places:member", found.pk)
        else:
            audit.record_refused(
                context=audit.Context.of(request),
                place_id=place.pk,
                what="membership",
                reason="invalid",
                fields=sorted(form.errors),
            )
    return render(request, "places/member.jinja", _member_context(request, found, form))


def _member_context(request: HttpRequest, found: Any, form: Any) -> dict[str, Any]:
    return {
        "member": found,
        "status": status_of(found),
        "form": form,
        "is_self": found.user_id == request.user.pk,
        "set_up": found.has_identity or (found.has_device and not found.no_password),
        "role_hints": ROLE_HINTS,
    }


# The one-button actions: (service, what the page says once done).
ACTIONS: dict[str, tuple[Callable[..., Any], str, str]] = {
    "remove": (team.remove_access, "Remove their access to this place", "Access removed"),
    "deactivate": (team.deactivate_user, "Deactivate their account", "Account deactivated"),
    "reactivate": (team.reactivate_user, "Reactivate their account", "Account reactivated"),
    "reset": (
        team.reset_second_factor,
        "Reset their authenticator app",
        "Authenticator reset",
    ),
    "resend": (team.resend_invitation, "Send a new invitation", "New invitation made"),
    "unlock": (team.unlock_sign_in, "Unlock their sign-in", "Sign-in unlocked"),
}
# What the emailing actions send, for the page to say whether it went.
EMAILED = {"reset": "a link to set up a new authenticator app", "resend": "a new invitation"}


def _act(request: HttpRequest, membership_id: int, action: str) -> HttpResponse:
    found = _member(request, membership_id)
    service, title, done = ACTIONS[action]
    form = ConfirmForm(posted(request))
    if request.method == "POST":
        if form.is_valid():
            try:
                result = service(membership=found, by=audit.Context.of(request))
            except ValidationError as error:
                add_service_error(form, error)
            except PermissionDenied:
                raise Http404("Not found") from None
            else:
                if isinstance(result, team.Invited):
                    what = EMAILED.get(action, "an email")
                    done = f"{done}. {_send_now(result.email, found.user.email, what)}"
                messages.success(request, done)
                return redirect_to(request, "places:member", found.pk)
        else:
            audit.record_refused(
                context=audit.Context.of(request),
                place_id=found.place_id,
                what="membership",
                reason="not confirmed",
            )
    return render(
        request,
        "places/member_confirm.jinja",
        {"member": found, "form": form, "title": title, "action": action},
    )


def _action_view(action: str) -> Callable[[HttpRequest, int], HttpResponse]:
    @requires(Permission.MANAGE_USERS)
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, membership_id: int) -> HttpResponse:
        return _act(request, membership_id, action)

    view.__name__ = view.__qualname__ = f"member_{action}"
    return view


member_remove = _action_view("remove")
member_deactivate = _action_view("deactivate")
member_reactivate = _action_view("reactivate")
member_reset = _action_view("reset")
member_resend = _action_view("resend")
member_unlock = _action_view("unlock")
