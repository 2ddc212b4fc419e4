"""Creating places, their settings and organisations, and giving people access to them.

Administering a place is the place admin's (DOMAIN.md "Who uses it"): every service that
changes a place's settings, lists or memberships first checks that whoever acts administers
that place (`require_administers`), whoever calls it, and audits what it refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from dsr.accounts.models import User
from dsr.core import audit, validation
from dsr.core.access import Role
from dsr.core.models import AuditAction, StaleVersion
from dsr.places import policy
from dsr.places.models import Membership, Organisation, OrganisationKind, Place, PlaceSettings

P = ParamSpec("P")
R = TypeVar("R")
NOT_ADMIN = "Only this place's place admin can do this"


def administers(by: audit.Context, place_id: int) -> bool:
    """Whether `by` may administer the place: the system itself (no actor, no role: the
    bootstrap command, the demo loader, tests), or a user acting as place admin of that very
    place who holds that role now (read afresh: a context is not proof)."""
    if by.actor is None and by.role is None:
        return True
    if by.user_id is None:
        return False
    return (
        by.role == Role.PLACE_ADMIN
        and by.place_id == place_id
        and Membership.objects.filter(
            user_id=by.user_id,
            place_id=place_id,
            role=Role.PLACE_ADMIN,
            is_active=True,
            user__is_active=True,
        ).exists()
    )


def require_administers(by: audit.Context, place_id: int) -> None:
    if not administers(by, place_id):
        audit.record_refused(context=by, place_id=place_id, what="administration", reason=NOT_ADMIN)
        raise PermissionDenied(NOT_ADMIN)


def refusals_audited(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A service whose refusals (bad input, a stale form) are audited in their own
    transaction, against the place it acts on, before the error reaches its caller."""

    def decorator(service: Callable[P, R]) -> Callable[P, R]:
        @wraps(service)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return service(*args, **kwargs)
            except (ValidationError, StaleVersion) as error:
                by = kwargs["by"]
                assert isinstance(by, audit.Context)
                fields = sorted(getattr(error, "error_dict", {}))
                audit.record_refused(
                    context=by,
                    place_id=_place_id_of(kwargs),
                    what=what,
                    reason="stale" if isinstance(error, StaleVersion) else "invalid",
                    fields=fields,
                )
                raise

        return wrapped

    return decorator


def _place_id_of(kwargs: Mapping[str, Any]) -> int | None:
    for name in ("place", "membership", "organisation"):
        value = kwargs.get(name)
        if isinstance(value, Place):
            return value.pk
        if value is not None and hasattr(value, "place_id"):
            return int(value.place_id)
    return None


def create_place(*, name: str, icb_name: str = "", by: audit.Context) -> Place:
    name = validation.text(name, field="name", label="Name", max_length=120, required=True)
    icb_name = validation.text(
        icb_name, field="icb_name", label="ICB", max_length=160, required=False
    )
    taken = ValidationError({"name": "There is already a place with this name"})
    if Place.objects.filter(name=name).exists():
        raise taken
    try:
        with transaction.atomic():
            place = Place.objects.create(name=name, icb_name=icb_name)
            PlaceSettings.objects.create(place=place)
            audit.record(context=by, action=AuditAction.CREATED, obj=place, place_id=place.pk)
    except IntegrityError as error:  # created meanwhile, by another run
        raise taken from error
    return place


# --- Policy settings (ADR 0015) ------------------------------------------------------


@refusals_audited("place settings")
def update_place_settings(
    *, place: Place, values: Mapping[str, Any], expected_version: int, by: audit.Context
) -> PlaceSettings:
    """Save the settings changed from `expected_version`; returns the saved row.

    Every value is held to its setting's range and the settings to each other; what changed
    is derived from the locked row. A change applies from the moment it is saved: due dates
    already set are not recomputed (ADR 0015). StaleVersion if someone saved in between.
    """
    require_administers(by, place.pk)
    with transaction.atomic():
        current = PlaceSettings.objects.select_for_update().get(place_id=place.pk)
        if current.version != expected_version:
            raise StaleVersion()
        cleaned, _candidate = policy.clean_values(current, values)
        changes = policy.changes_between(current, cleaned)
        if not changes:
            return current
        current.save_if_current(expected_version, **{k: new for k, (_old, new) in changes.items()})
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=current,
            place_id=place.pk,
            changes={**changes, "version": [expected_version, current.version]},
        )
    return current


# --- Organisations --------------------------------------------------------------------

ORGANISATION_TAKEN = "This place already has an organisation with that name"


def _organisation_fields(name: Any, kind: Any) -> tuple[str, str]:
    name = validation.text(name, field="name", label="Name", max_length=200, required=True)
    validation.one_of(
        kind, OrganisationKind, field="kind", message="Select the kind of organisation"
    )
    return name, kind


@refusals_audited("organisation")
def add_organisation(*, place: Place, name: str, kind: str, by: audit.Context) -> Organisation:
    require_administers(by, place.pk)
    name, kind = _organisation_fields(name, kind)
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(place=place, name=name, kind=kind)
            audit.record(
                context=by,
                action=AuditAction.CREATED,
                obj=organisation,
                place_id=place.pk,
                changes={"name": [None, name], "kind": [None, kind]},
            )
    except IntegrityError:
        raise ValidationError({"name": ORGANISATION_TAKEN}) from None
    return organisation


@refusals_audited("organisation")
def update_organisation(
    *, organisation: Organisation, name: str, kind: str, is_active: bool, by: audit.Context
) -> Organisation:
    """Rename, re-kind, retire or bring back an organisation. It is reference data, not a
    decision: records that name it show its current name. Retired, it is kept for the
    records that name it and no longer offered for new ones."""
    require_administers(by, organisation.place_id)
    name, kind = _organisation_fields(name, kind)
    if not isinstance(is_active, bool):
        raise ValidationError({"is_active": "Select whether the organisation is in use"})
    try:
        with transaction.atomic():
            current = Organisation.objects.select_for_update().get(pk=organisation.pk)
            values = {"name": name, "kind": kind, "is_active": is_active}
            changes = {
                k: [getattr(current, k), v] for k, v in values.items() if getattr(current, k) != v
            }
            if not changes:
                return current
            for key, (_old, new) in changes.items():
                setattr(current, key, new)
            current.save(update_fields=list(changes))
            audit.record(
                context=by,
                action=AuditAction.CHANGED,
                obj=current,
                place_id=current.place_id,
                changes=changes,
            )
    except IntegrityError:
        raise ValidationError({"name": ORGANISATION_TAKEN}) from None
    return current


def check_organisation(organisation: Organisation | None, place_id: int, *, field: str) -> None:
    """An organisation chosen for a record: this place's, and in use (read afresh)."""
    if organisation is None:
        return
    if not isinstance(organisation, Organisation):  # a name or an id: not a choice made here
        raise ValidationError({field: "Choose an organisation from this place"})
    found = Organisation.objects.filter(pk=organisation.pk).values_list("place_id", "is_active")
    row = found.first()
    if row is None or row[0] != place_id:
        raise ValidationError({field: "Choose an organisation from this place"})
    if not row[1]:
        raise ValidationError({field: "That organisation is no longer in use. Choose another"})


def grant_membership(
    *,
    user: User,
    place: Place,
    role: Role,
    organisation: Organisation | None = None,
    by: audit.Context,
) -> Membership:
    """A role in the place for a user who has none there (the place admin's, ADR 0016)."""
    require_administers(by, place.pk)
    validation.one_of(str(role), Role, field="role", message="Select a role")
    check_organisation(organisation, place.pk, field="organisation")
    if not isinstance(user, User):
        raise ValidationError({"user": "Choose whose role this is"})
    has_one = ValidationError({"user": f"{user.email} already has a role in {place.name}"})
    if Membership.objects.filter(user=user, place=place).exists():
        raise has_one
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                user=user, place=place, role=role, organisation=organisation
            )
            audit.record(
                context=by,
                action=AuditAction.CREATED,
                obj=membership,
                place_id=place.pk,
                changes={"role": str(role), "user": user.email},
            )
    except IntegrityError as error:  # granted meanwhile (one membership a place)
        raise has_one from error
    return membership


def organisations_of(place: Place) -> Any:
    """The place's organisations in use, for choosing an action's or a professional's."""
    return Organisation.objects.filter(place=place, is_active=True).order_by("name")


def all_organisations_of(place: Place) -> Any:
    """Every organisation of the place, retired ones too (the place admin's list)."""
    return Organisation.objects.filter(place=place).order_by("-is_active", "name")
