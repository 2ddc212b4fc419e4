"""Roles, permissions and the one access table (DESIGN.md principle 2).

Every view declares its rule with one of the decorators below; the URL-walk
test fails on any route without one. A refusal answers 404, never 403, so a
user cannot learn that a record exists (principle 1).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from dsr.core import audit


class Role(models.TextChoices):
    COORDINATOR = "coordinator", "Coordinator"
    KEYWORKER = "keyworker", "Keyworker"
    PARTNER = "partner", "Partner"
    VIEWER = "viewer", "Viewer"
    AUDITOR = "auditor", "Auditor"
    PLACE_ADMIN = "place_admin", "Place admin"


class Permission(enum.StrEnum):
    VIEW_REGISTER = "view_register"
    VIEW_PERSON = "view_person"
    ADD_PERSON = "add_person"
    EDIT_PERSON = "edit_person"
    CLOSE_PERSON = "close_person"
    VIEW_PERSON_ACCESS = "view_person_access"
    SEARCH_AUDIT = "search_audit"
    VIEW_PLACE_SETTINGS = "view_place_settings"
    RATE_PERSON = "rate_person"
    RECORD_REVIEW = "record_review"
    LOG_EVENT = "log_event"
    ADD_ACTION = "add_action"
    UPDATE_ACTION = "update_action"
    VIEW_RISING_RISK = "view_rising_risk"
    VIEW_MY_WORK = "view_my_work"
    VIEW_REFERRALS = "view_referrals"
    ADD_REFERRAL = "add_referral"
    TRIAGE_REFERRAL = "triage_referral"
    RECORD_CONSENT = "record_consent"
    MANAGE_NETWORK = "manage_network"
    RECORD_CIRCUMSTANCES = "record_circumstances"
    ALLOCATE_KEYWORKER = "allocate_keyworker"
    VIEW_CASELOAD = "view_caseload"
    LOG_CONTACT = "log_contact"
    TRANSFER_PERSON = "transfer_person"
    # A place's administration (its system owner): users, settings, lists. No care data.
    MANAGE_USERS = "manage_users"
    EDIT_PLACE_SETTINGS = "edit_place_settings"
    MANAGE_ORGANISATIONS = "manage_organisations"
    MANAGE_RISK_FACTORS = "manage_risk_factors"
    # Step 7: hospital and C(E)TRs
    RECORD_ADMISSION = "record_admission"
    RECORD_OVERSIGHT_VISIT = "record_oversight_visit"
    RECORD_CETR = "record_cetr"
    VIEW_INPATIENTS = "view_inpatients"
    VIEW_CETR_SCHEDULE = "view_cetr_schedule"
    # Step 8: the monthly tracker meeting
    VIEW_MEETINGS = "view_meetings"
    RUN_MEETING = "run_meeting"


P = Permission
ACCESS: dict[Role, frozenset[Permission]] = {
    Role.COORDINATOR: frozenset(
        {
            P.VIEW_REGISTER,
            P.VIEW_PERSON,
            P.ADD_PERSON,
            P.EDIT_PERSON,
            P.CLOSE_PERSON,
            P.VIEW_PERSON_ACCESS,
            P.VIEW_PLACE_SETTINGS,
            P.RATE_PERSON,
            P.RECORD_REVIEW,
            P.LOG_EVENT,
            P.ADD_ACTION,
            P.UPDATE_ACTION,
            P.VIEW_RISING_RISK,
            P.VIEW_MY_WORK,
            P.VIEW_REFERRALS,
            P.ADD_REFERRAL,
            P.TRIAGE_REFERRAL,
            P.RECORD_CONSENT,
            P.MANAGE_NETWORK,
            P.RECORD_CIRCUMSTANCES,
            P.ALLOCATE_KEYWORKER,
            P.VIEW_CASELOAD,
            P.LOG_CONTACT,
            P.TRANSFER_PERSON,
            P.RECORD_ADMISSION,
            P.RECORD_OVERSIGHT_VISIT,
            P.RECORD_CETR,
            P.VIEW_INPATIENTS,
            P.VIEW_CETR_SCHEDULE,
            P.VIEW_MEETINGS,
            P.RUN_MEETING,
        }
    ),
    Role.KEYWORKER: frozenset(
        {
            P.VIEW_REGISTER,
            P.VIEW_PERSON,
            P.EDIT_PERSON,
            P.LOG_EVENT,
            P.ADD_ACTION,
            P.UPDATE_ACTION,
            P.VIEW_MY_WORK,
            # The team takes referrals in and makes first contact; coordinators triage.
            P.VIEW_REFERRALS,
            P.ADD_REFERRAL,
            P.RECORD_CONSENT,
            P.MANAGE_NETWORK,
            P.RECORD_CIRCUMSTANCES,
            P.VIEW_CASELOAD,
            P.LOG_CONTACT,
            P.VIEW_INPATIENTS,
            P.VIEW_CETR_SCHEDULE,
            P.VIEW_MEETINGS,
        }
    ),
    # Partners see only people whose care network includes them (scoping, not here).
    # Their meetings' agendas, packs and minutes hold only the items about those people.
    Role.PARTNER: frozenset(
        {P.VIEW_REGISTER, P.VIEW_PERSON, P.UPDATE_ACTION, P.VIEW_MY_WORK, P.VIEW_MEETINGS}
    ),
    Role.VIEWER: frozenset(
        {
            P.VIEW_REGISTER,
            P.VIEW_PERSON,
            P.VIEW_PLACE_SETTINGS,
            P.VIEW_RISING_RISK,
            P.VIEW_INPATIENTS,  # the commissioner's weekly check (issue 10, part 5)
            P.VIEW_CETR_SCHEDULE,
            P.VIEW_CASELOAD,
            P.VIEW_MEETINGS,
        }
    ),
    Role.AUDITOR: frozenset({P.SEARCH_AUDIT, P.VIEW_PERSON_ACCESS}),
    # DOMAIN.md: the place admin "manages users, memberships and the place's settings" and
    # sees no care data: only these (tests/core/test_access.py walks every page to prove it).
    Role.PLACE_ADMIN: frozenset(
        {
            P.VIEW_PLACE_SETTINGS,
            P.MANAGE_USERS,
            P.EDIT_PLACE_SETTINGS,
            P.MANAGE_ORGANISATIONS,
            P.MANAGE_RISK_FACTORS,
        }
    ),
}
# What administering a place means; nothing in it reads or writes care data.
ADMINISTRATION: frozenset[Permission] = ACCESS[Role.PLACE_ADMIN]


def role_has(role: str | None, permission: Permission) -> bool:
    if role is None:
        return False
    return permission in ACCESS.get(Role(role), frozenset())


# Object rules: a role may hold a permission only for some objects. Checked by the door
# (core/door.py) when a record is got for an action, and by templates before offering it.
ObjectRule = Callable[[Any, Any], bool]  # (membership, object) -> allowed
OBJECT_RULES: dict[tuple[Role, Permission], ObjectRule] = {
    # DOMAIN.md: a partner "updates the actions they own".
    (Role.PARTNER, P.UPDATE_ACTION): lambda membership, action: (
        action.owner_user_id == membership.user_id
    ),
    # A keyworker's caseload page is their own; coordinators and viewers see every one.
    (Role.KEYWORKER, P.VIEW_CASELOAD): lambda membership, keyworker: (
        keyworker.pk == membership.user_id
    ),
}


def allows(membership: Any, permission: Permission, obj: Any = None) -> bool:
    """Whether the membership's role holds `permission`, for `obj` when one is given."""
    if membership is None or not role_has(membership.role, permission):
        return False
    rule = OBJECT_RULES.get((Role(membership.role), permission))
    return obj is None or rule is None or rule(membership, obj)


def limited_by_object_rule(membership: Any, permission: Permission) -> bool:
    """Whether the membership's role holds `permission` only for some objects (a keyworker's
    caseload: their own), so a page listing every object is not theirs."""
    return (Role(membership.role), permission) in OBJECT_RULES


def require_acting_in(by: Any, place_id: int) -> None:
    """A role is held in a place: whoever acts with one acts on that place's records only.

    Services call this on the record they lock (views reach records through the doors,
    which already keep to the URL's place; other callers may not). The system itself
    (role None: the demo loader, jobs, tests) acts anywhere.
    """
    if by.role is not None and by.place_id != place_id:
        raise PermissionDenied("This record belongs to another place")


# The records a URL can name, by the name of their id in it: the model, and the column
# holding the record's person (None: a record of no one, a meeting, say), so that a refusal
# at a record is filed with its place and names its person, as the doors file theirs.
# Before, a refusal by role named the person only at `person_id` URLs, and a refusal to
# someone outside the place named nobody (an IG review). Registered by each app.
_RECORDS: dict[str, tuple[type[models.Model], str | None, str]] = {}


def register_record(
    kwarg: str, model: type[models.Model], *, person: str | None, place: str = "place_id"
) -> None:
    _RECORDS[kwarg] = (model, person, place)


def _held(kwargs: dict[str, Any]) -> tuple[int | None, int | None]:
    """The person (or None) and place of the record the URL names: the last id in it that
    is a registered record that exists (an agenda item before its meeting); (None, None) if
    none is."""
    for name, value in reversed(kwargs.items()):
        if name not in _RECORDS:
            continue
        model, person, place = _RECORDS[name]
        row = model._base_manager.filter(pk=value).values_list(person or "pk", place).first()
        if row is not None:
            return (row[0] if person else None), row[1]
    return None, None


def _deny(request: HttpRequest, reason: str, kwargs: dict[str, Any], place_id: Any = None) -> None:
    """A refusal, audited against the record the URL names (its place, its person), or
    else against `place_id` (the URL's place), or the place the user works in."""
    person_id, held_in = _held(kwargs)
    audit.record_denied(
        request=request, reason=reason, person_id=person_id, place_id=held_in or place_id
    )


class Rule(enum.Enum):
    """What a route asks of the request before its permission is checked."""

    PUBLIC = "public"  # anyone, signed in or not (sign-in pages)
    SIGNED_IN = "signed_in"  # fully signed in, with or without a place
    MEMBER = "member"  # fully signed in, a member (any role) of the URL's place
    PERMISSION = "permission"  # fully signed in, a membership whose role holds it


ViewFunc = Callable[..., HttpResponse]

# The place a page belongs to travels in its URL (`/places/<place_id>/...`), so tabs on
# different places work side by side (ADR 0002). The last one used is remembered only to
# choose where "home" goes.
PLACE_KWARG = "place_id"
LAST_PLACE = "dsr_last_place"


# Set by NHS sign-in (dsr/accounts/oidc.py) only when the identity provider asserted
# multi-factor authentication: it stands in for the local second factor (ADR 0017).
IDP_MFA = "dsr_idp_mfa"


def second_factor_done(request: HttpRequest) -> bool:
    if settings.DSR_DEMO:
        return True
    if request.user.is_authenticated and request.session.get(IDP_MFA):
        return True
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def _sign_in_redirect(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse('accounts:sign_in')}?{urlencode({'next': request.get_full_path()})}")


def enter_place(request: HttpRequest, place_id: int) -> Any:
    """Set `request.place` and `request.membership` from the user's membership of the place
    named in the URL; None if they have none (memberships: places/middleware.py)."""
    memberships = getattr(request, "memberships", [])
    membership = next((m for m in memberships if m.place_id == place_id), None)
    request.membership = membership  # type: ignore[attr-defined]
    request.place = membership.place if membership is not None else None  # type: ignore[attr-defined]
    if membership is not None and request.session.get(LAST_PLACE) != place_id:
        request.session[LAST_PLACE] = place_id
    return membership


def _declare(rule: Rule, permission: Permission | None) -> Callable[[ViewFunc], ViewFunc]:
    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            signed_in_fully = request.user.is_authenticated and second_factor_done(request)
            if rule is not Rule.PUBLIC and not signed_in_fully:
                return _sign_in_redirect(request)
            if PLACE_KWARG in kwargs:
                place_id = kwargs.pop(PLACE_KWARG)
                if enter_place(request, place_id) is None:
                    _deny(request, "not a member of this place", kwargs, place_id)
                    raise Http404("Not found")
            if rule is Rule.MEMBER and getattr(request, "membership", None) is None:
                raise Http404("Not found")
            if rule is Rule.PERMISSION:
                assert permission is not None
                membership = getattr(request, "membership", None)
                if membership is None or not role_has(membership.role, permission):
                    _deny(request, f"role lacks {permission}", kwargs)
                    raise Http404("Not found")
            return view(request, *args, **kwargs)

        wrapped.access_rule = rule  # type: ignore[attr-defined]
        wrapped.access_permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorator


def requires(permission: Permission) -> Callable[[ViewFunc], ViewFunc]:
    """The view needs a membership of the URL's place whose role holds `permission`."""
    return _declare(Rule.PERMISSION, permission)


public = _declare(Rule.PUBLIC, None)
signed_in = _declare(Rule.SIGNED_IN, None)
member = _declare(Rule.MEMBER, None)
