"""The care network: professionals, and family and carers, each with start and end dates.

DOMAIN.md: "who is involved in their care". Members are ended, never deleted: the network's
history is kept and shown. A professional linked to a partner user is how that partner
comes to see the person (people/scoping.py). Other apps may guard endings (a keyworker is
not a caseholder: dsr.keywork registers a guard so that the last other professional cannot
quietly leave a keyworker holding the case).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from dsr.accounts.models import User
from dsr.core import audit, validation
from dsr.core.access import Role, require_acting_in
from dsr.core.models import AuditAction, StaleVersion
from dsr.people.choices import MemberKind, Relationship
from dsr.people.models import NetworkMember, Person
from dsr.people.services.record import lock_open
from dsr.places.models import Membership, Organisation
from dsr.places.services import check_organisation

LEAD_TAKEN = "Someone else is the lead professional. End or change their entry first"
PHONE_CHARACTERS = set("0123456789 +()-")

# Checks other apps run before a member leaves the network: (person, member) -> raises.
ENDING_GUARDS: list[Callable[[Person, NetworkMember], None]] = []


def register_ending_guard(guard: Callable[[Person, NetworkMember], None]) -> None:
    if guard not in ENDING_GUARDS:
        ENDING_GUARDS.append(guard)


def network_users(person: Person) -> Any:
    """The users of the register in the person's current care network (a subquery)."""
    return NetworkMember.objects.current().filter(person=person).values("user_id")


def linkable_partners(place_id: int) -> Any:
    """The users who may be linked to a care network here: the place's active partners."""
    return (
        User.objects.filter(
            is_active=True,
            memberships__place_id=place_id,
            memberships__role=Role.PARTNER,
            memberships__is_active=True,
        )
        .distinct()
        .order_by("full_name", "id")
    )


def current_professionals(person: Person) -> Any:
    """The professionals now in the person's care network."""
    return NetworkMember.objects.current().filter(person=person, kind=MemberKind.PROFESSIONAL)


def _contact(phone: Any, email: Any) -> tuple[str, str]:
    phone = validation.text(phone, field="phone", label="Phone", max_length=40, required=False)
    digits = sum(c.isdigit() for c in phone)
    if phone and (not set(phone) <= PHONE_CHARACTERS or not 7 <= digits <= 15):
        raise ValidationError({"phone": "Enter a phone number, like 01632 960 001"})
    email = validation.text(email, field="email", label="Email", max_length=254, required=False)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(
                {"email": "Enter an email address in the correct format, like name@example.com"}
            ) from None
    return phone, email.lower()


def _member_fields(data: dict[str, Any], *, kind: str) -> dict[str, Any]:
    """Every value checked, by kind: a professional has a role, perhaps an organisation, a
    user and the lead; family and carers a relationship and perhaps parental responsibility."""
    validation.one_of(kind, MemberKind, field="kind", message="Select who they are")
    values: dict[str, Any] = {
        "name": validation.text(
            data.get("name"), field="name", label="Name", max_length=150, required=True
        )
    }
    values["phone"], values["email"] = _contact(data.get("phone", ""), data.get("email", ""))
    if kind == MemberKind.PROFESSIONAL:
        values["job_title"] = validation.text(
            data.get("job_title", ""),
            field="job_title",
            label="Role",
            max_length=150,
            required=False,
        )
        is_lead = data.get("is_lead", False)
        if not isinstance(is_lead, bool):
            raise ValidationError({"is_lead": "Select whether they are the lead professional"})
        values.update(
            is_lead=is_lead,
            organisation=data.get("organisation"),
            user=data.get("user"),
            relationship="",
            parental_responsibility=False,
        )
        return values
    for name in ("organisation", "user"):
        if data.get(name) is not None:
            raise ValueError(f"Family and carers have no {name}")
    validation.one_of(
        data.get("relationship"),
        Relationship,
        field="relationship",
        message="Select their relationship to the person",
    )
    responsibility = data.get("parental_responsibility", False)
    if not isinstance(responsibility, bool):
        raise ValidationError(
            {"parental_responsibility": "Select whether they have parental responsibility"}
        )
    values.update(
        relationship=data["relationship"],
        parental_responsibility=responsibility,
        job_title="",
        is_lead=False,
        organisation=None,
        user=None,
    )
    return values


def _check_links(values: dict[str, Any], *, person: Person, member_id: int | None) -> None:
    check_organisation(values.get("organisation"), person.place_id, field="organisation")
    user = values.get("user")
    if user is not None:
        if (
            not isinstance(user, User)
            or not Membership.objects.filter(
                user=user, place_id=person.place_id, is_active=True, role=Role.PARTNER
            ).exists()
        ):  # an email or an id is not a partner chosen here
            raise ValidationError(
                {"user": "Only a partner of this place can be linked to a care network"}
            )
        others = NetworkMember.objects.current().filter(person=person, user=user)
        if others.exclude(pk=member_id).exists():
            raise ValidationError({"user": "This partner is already in the care network"})
    if values.get("is_lead"):
        leads = NetworkMember.objects.current().filter(person=person, is_lead=True)
        if leads.exclude(pk=member_id).exists():
            raise ValidationError({"is_lead": LEAD_TAKEN})


def _describe(values: dict[str, Any]) -> dict[str, Any]:
    """What an audit event says of a member's values (people as their emails)."""
    described = dict(values)
    if "user" in described:
        described["user"] = getattr(described["user"], "email", None)
    if "organisation" in described:
        described["organisation"] = getattr(described["organisation"], "name", None)
    return described


def add_network_member(
    *,
    person: Person,
    name: str,
    started_on: date,
    by: audit.Context,
    kind: str = MemberKind.PROFESSIONAL,
    job_title: str = "",
    organisation: Organisation | None = None,
    user: Any = None,
    is_lead: bool = False,
    relationship: str = "",
    parental_responsibility: bool = False,
    phone: str = "",
    email: str = "",
) -> NetworkMember:
    """Someone joins the person's care network; a linked partner then sees the person."""
    values = _member_fields(
        {
            "name": name,
            "job_title": job_title,
            "organisation": organisation,
            "user": user,
            "is_lead": is_lead,
            "relationship": relationship,
            "parental_responsibility": parental_responsibility,
            "phone": phone,
            "email": email,
        },
        kind=kind,
    )
    validation.a_past_date(started_on, field="started_on", label="start date")
    try:
        with transaction.atomic():
            current = lock_open(person, by)
            if started_on < current.date_of_birth:
                raise ValidationError(
                    {"started_on": "The start date cannot be before the person's date of birth"}
                )
            _check_links(values, person=current, member_id=None)
            member = NetworkMember.objects.create(
                person=current,
                place_id=current.place_id,
                kind=kind,
                started_on=started_on,
                **values,
            )
            audit.record(
                context=by,
                action=AuditAction.CREATED,
                obj=member,
                person_id=current.pk,
                place_id=current.place_id,
                changes={
                    name: [None, value]
                    for name, value in _describe({"kind": kind, **values}).items()
                    if value not in ("", None, False)
                },
            )
    except IntegrityError as error:  # a concurrent edit made someone else the lead
        raise ValidationError({"is_lead": LEAD_TAKEN}) from error
    return member


def _lock_member(member: NetworkMember, *, expected_version: int, by: audit.Context) -> Any:
    # The person's row first, then the member's, as every service about a person locks.
    person_id, place_id = NetworkMember.objects.values_list("person_id", "place_id").get(
        pk=member.pk
    )
    require_acting_in(by, place_id)
    person = lock_open(person_id, by)
    current = NetworkMember.objects.select_for_update().get(pk=member.pk)
    if current.version != expected_version:
        raise StaleVersion()
    if current.ended_on is not None:
        raise ValidationError("This person has left the care network: their entry is kept")
    return current, person


EDITABLE = (
    "name",
    "job_title",
    "organisation",
    "user",
    "is_lead",
    "relationship",
    "parental_responsibility",
    "phone",
    "email",
)


def update_network_member(
    *, member: NetworkMember, data: dict[str, Any], expected_version: int, by: audit.Context
) -> NetworkMember:
    """Change a member's details (a new phone number, a new lead professional). What
    changed is derived from the locked row; StaleVersion if someone saved in between."""
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise ValueError(f"Not network member fields: {sorted(unknown)}")
    try:
        with transaction.atomic():
            current, person = _lock_member(member, expected_version=expected_version, by=by)
            merged = {name: data.get(name, getattr(current, name)) for name in EDITABLE}
            values = _member_fields(merged, kind=current.kind)
            _check_links(values, person=person, member_id=current.pk)
            changes = {
                name: [getattr(current, name), value]
                for name, value in values.items()
                if getattr(current, name) != value
            }
            if not changes:
                return current
            current.save_if_current(expected_version, **{k: v for k, (_o, v) in changes.items()})
            audit.record(
                context=by,
                action=AuditAction.CHANGED,
                obj=current,
                person_id=current.person_id,
                place_id=current.place_id,
                changes={
                    **{
                        name: [_describe({name: old})[name], _describe({name: new})[name]]
                        for name, (old, new) in changes.items()
                    },
                    "version": [expected_version, current.version],
                },
            )
    except IntegrityError as error:
        raise ValidationError({"is_lead": LEAD_TAKEN}) from error
    return current


def end_network_member(
    *, member: NetworkMember, ended_on: date, expected_version: int, by: audit.Context
) -> NetworkMember:
    """Someone leaves the care network on a day; their entry is kept as history."""
    validation.a_past_date(ended_on, field="ended_on", label="date they left")
    with transaction.atomic():
        current, person = _lock_member(member, expected_version=expected_version, by=by)
        if ended_on < current.started_on:
            started = f"{current.started_on:%-d %B %Y}"
            raise ValidationError({"ended_on": f"The date they left must be on or after {started}"})
        for guard in ENDING_GUARDS:
            guard(person, current)
        current.save_if_current(expected_version, ended_on=ended_on)
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=current,
            person_id=current.person_id,
            place_id=current.place_id,
            changes={"ended_on": [None, ended_on], "version": [expected_version, current.version]},
        )
    return current


def transfer_history(person: Person) -> dict[str, Any]:
    """What a transfer carries of the care network: who is in it now (the receiving place
    decides whom to keep; links to this place's users do not travel)."""
    members = NetworkMember.objects.current().filter(person=person).select_related("organisation")
    return {
        "network": [
            {
                "kind": m.kind,
                "name": m.name,
                "role": m.job_title,
                "organisation": m.organisation.name if m.organisation else "",
                "relationship": m.get_relationship_display() if m.relationship else "",
                "parental_responsibility": m.parental_responsibility,
                "lead": m.is_lead,
                "phone": m.phone,
                "email": m.email,
                "since": m.started_on.isoformat(),
            }
            for m in members
        ]
    }
