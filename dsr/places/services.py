"""Creating places and giving people access to them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from dsr.accounts.models import User
from dsr.core import audit, validation
from dsr.core.access import Role
from dsr.core.models import AuditAction
from dsr.places.models import Membership, Organisation, OrganisationKind, Place, PlaceSettings


def create_place(*, name: str, icb_name: str = "", by: audit.Context) -> Place:
    name = validation.text(name, field="name", label="Name", max_length=120, required=True)
    icb_name = validation.text(
        icb_name, field="icb_name", label="ICB", max_length=160, required=False
    )
    with transaction.atomic():
        place = Place.objects.create(name=name, icb_name=icb_name)
        PlaceSettings.objects.create(place=place)
        audit.record(context=by, action=AuditAction.CREATED, obj=place, place_id=place.pk)
    return place


def add_organisation(*, place: Place, name: str, kind: str, by: audit.Context) -> Organisation:
    name = validation.text(name, field="name", label="Name", max_length=200, required=True)
    validation.one_of(
        kind, OrganisationKind, field="kind", message="Select the kind of organisation"
    )
    with transaction.atomic():
        organisation = Organisation.objects.create(place=place, name=name, kind=kind)
        audit.record(context=by, action=AuditAction.CREATED, obj=organisation, place_id=place.pk)
    return organisation


def grant_membership(
    *,
    user: User,
    place: Place,
    role: Role,
    organisation: Organisation | None = None,
    by: audit.Context,
) -> Membership:
    validation.one_of(str(role), Role, field="role", message="Select a role")
    if organisation is not None and organisation.place_id != place.pk:
        raise ValidationError({"organisation": "Choose an organisation from this place"})
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
    return membership


def organisations_of(place: Place) -> Any:
    """The place's partner organisations, for choosing an action's or a professional's."""
    return Organisation.objects.filter(place=place).order_by("name")
