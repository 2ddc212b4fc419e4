"""Business operations on the person record and their care network (DESIGN.md principle 3).

Each service validates everything it is given (a form is not its only caller), works from
the row it locks, and derives what changed from that row, never from the object passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from dsr.core import audit, dates, nhs_number, text, validation
from dsr.core.access import Permission, Role, require_acting_in, role_has
from dsr.core.models import AuditAction, StaleVersion
from dsr.people.choices import ClosureReason, Status
from dsr.people.models import NetworkMember, Person
from dsr.places.models import Membership, Organisation, Place, PlaceSettings
from dsr.places.services import check_organisation

# What a person record is made of, beyond its place and status.
EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "nhs_number",
    "ethnicity",
    "address",
    "postcode",
    "local_authority",
    "gp_practice",
    "accommodation",
    "learning_disability",
    "autism",
    "diagnosis_notes",
    "education_setting",
    "education_attendance",
    "ehc_plan",
    "looked_after",
    "child_protection_plan",
    "child_in_need",
    "communication_needs",
    "key_safety_information",
)
NAME_FIELDS = ("given_name", "family_name", "preferred_name")

CLOSED_RECORD = "This record is closed and cannot be changed"
NHS_NUMBER_TAKEN_HERE = "There is already an open record with this NHS number on this register"
# ADR 0010: told only to roles that add people; never which place, never who.
ON_ANOTHER_REGISTER = (
    "This person appears to be on another place's register. We cannot say which place. "
    "Their record can be moved here only by a transfer from the place that holds it: "
    "ask your ICB's DSR leads to find that place, which then transfers the record to you"
)
NHS_NUMBER_LOCKED = (
    "Only a member of the team who adds people to the register can change an NHS number"
)


def may_match_across_places(by: audit.Context) -> bool:
    """Only roles that add people learn that someone is on another place's register
    (ADR 0010). The system itself (role None: the demo loader, tests) may."""
    return by.role is None or role_has(by.role, Permission.ADD_PERSON)


def check_age_in_range(*, date_of_birth: date, policy: PlaceSettings) -> None:
    """On the register from `register_min_age` until the `register_max_age` birthday."""
    if date_of_birth > dates.today():
        raise ValidationError(
            {"date_of_birth": "The date of birth must be today or in the past"}, code="future"
        )
    age = dates.age_on(date_of_birth, dates.today())
    if age < policy.register_min_age or age >= policy.register_max_age:
        raise ValidationError(
            {
                "date_of_birth": f"This person is {age}. The register is for people aged "
                f"{policy.register_min_age} up to their {policy.register_max_age}th birthday"
            },
            code="age_out_of_range",
        )


def _clean(data: dict[str, Any], *, required: bool) -> dict[str, Any]:
    """Every value checked as the person form checks it, then normalised."""
    candidate = dict(data)
    errors: dict[str, Any] = {}
    number = candidate.get("nhs_number")
    if number:
        try:
            candidate["nhs_number"] = nhs_number.validate(str(number))
        except ValidationError as error:
            errors["nhs_number"] = error
            candidate.pop("nhs_number")
    try:
        cleaned = validation.clean_fields(
            Person, candidate, allowed=EDITABLE_FIELDS, required=required
        )
    except ValidationError as error:
        errors = {**error.error_dict, **errors}  # type: ignore[attr-defined]
        cleaned = {}
    if errors:
        raise ValidationError(errors)
    if "postcode" in cleaned:
        cleaned["postcode"] = " ".join(cleaned["postcode"].upper().split())
    return cleaned


@dataclass(frozen=True)
class Duplicates:
    """Records that may be the same person.

    `here`: (person id, reason) in the checking place. `elsewhere`: that an open record
    appears on another place's register, only ever set for roles that add people.
    """

    here: list[tuple[int, str]] = field(default_factory=list)
    elsewhere: bool = False
    # Why the NHS number itself cannot be used (an open record has it), or "".
    number_taken: str = ""

    def __bool__(self) -> bool:
        return bool(self.here) or self.elsewhere


def find_duplicates(
    *,
    place: Place,
    nhs: str,
    given_name: str,
    family_name: str,
    date_of_birth: date | None,
    by: audit.Context,
    exclude_id: int | None = None,
) -> Duplicates:
    """The same NHS number, or the same name and date of birth (accents and case folded).

    Other places are searched only for roles that add people, and each such check is
    audited (its own transaction: the check is kept even when the save then fails).
    """
    require_acting_in(by, place.pk)
    query = Q()
    if nhs:
        query |= Q(nhs_number=nhs)
    key = text.search_key(given_name, family_name)
    if date_of_birth and given_name.strip() and family_name.strip():
        # The whole name, not its start: "Bella Br" must not find Bella Brook elsewhere.
        same_name = Q(search_name=key) | Q(search_name__startswith=f"{key} ")
        query |= Q(date_of_birth=date_of_birth) & same_name
    if not query:
        return Duplicates()
    found = Person.objects.filter(query)
    if exclude_id is not None:
        found = found.exclude(pk=exclude_id)
    across = may_match_across_places(by)
    if not across:
        found = found.filter(place=place)
    rows = list(
        found.order_by("-status", "id").values_list("id", "place_id", "status", "nhs_number")[:20]
    )
    here = [
        (pk, "same NHS number" if nhs and number == nhs else "same name and date of birth")
        for pk, place_id, _status, number in rows
        if place_id == place.pk
    ]
    elsewhere = any(
        place_id != place.pk and status == Status.OPEN for _, place_id, status, _ in rows
    )
    holders = {
        p for _, p, status, number in rows if nhs and number == nhs and status == Status.OPEN
    }
    if across:
        with transaction.atomic():
            audit.record(
                context=by,
                action=AuditAction.CHECKED,
                object_type="Person",
                place_id=place.pk,
                changes={
                    "nhs_number": nhs,
                    "name_and_date_of_birth": bool(date_of_birth and key),
                    "found_elsewhere": elsewhere,
                },
                shown=[pk for pk, _ in here],  # the records on this register it pointed to
            )
    return Duplicates(
        here=here[:10], elsewhere=elsewhere, number_taken=_number_taken(holders, place)
    )


def _number_taken(holders: set[int], place: Place) -> str:
    """Why an NHS number held open by records in `holders` (place ids) cannot be used
    here, as ADR 0010 allows it to be said; "" when nobody holds it."""
    if not holders:
        return ""
    return NHS_NUMBER_TAKEN_HERE if place.pk in holders else ON_ANOTHER_REGISTER


def _refuse_taken_number(*, nhs: str, place: Place, exclude_id: int | None) -> None:
    """An NHS number is open on at most one register."""
    if not nhs:
        return
    taken = Person.objects.filter(nhs_number=nhs, status=Status.OPEN)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    reason = _number_taken(set(taken.values_list("place_id", flat=True)), place)
    if reason:
        raise ValidationError({"nhs_number": reason})


def create_person(*, place: Place, data: dict[str, Any], by: audit.Context) -> Person:
    """A new open record. Callers add the first rating in the same transaction
    (dsr.register.services.add_to_register): nobody is on the register unrated."""
    require_acting_in(by, place.pk)
    cleaned = _clean(data, required=True)
    check_age_in_range(date_of_birth=cleaned["date_of_birth"], policy=place.settings)
    cleaned["search_name"] = text.search_key(*(cleaned.get(f, "") for f in NAME_FIELDS))
    try:
        with transaction.atomic():
            _refuse_taken_number(nhs=cleaned.get("nhs_number", ""), place=place, exclude_id=None)
            person = Person.objects.create(place=place, **cleaned)
            audit.record(
                context=by,
                action=AuditAction.CREATED,
                obj=person,
                person_id=person.pk,
                place_id=person.place_id,
                changes={
                    k: [None, v]
                    for k, v in cleaned.items()
                    if k != "search_name" and v not in ("", None, False)
                },
            )
    except IntegrityError as error:  # a concurrent create won the race for the NHS number
        raise ValidationError({"nhs_number": NHS_NUMBER_TAKEN_HERE}) from error
    return person


def lock(person: Person | int) -> Person:
    """The person's row, locked until the transaction ends (SQLite: already serialised)."""
    pk = person if isinstance(person, int) else person.pk
    return (
        Person.objects.select_for_update(of=("self",)).select_related("place__settings").get(pk=pk)
    )


def lock_open(person: Person | int, by: audit.Context) -> Person:
    """The person's row, locked, in the acting place, and open: nothing is added to a
    closed record (ratings, events, actions, its care network)."""
    current = lock(person)
    require_acting_in(by, current.place_id)
    if not current.is_open:
        raise ValidationError(CLOSED_RECORD)
    return current


def _check_new_number(*, person: Person, nhs: str | None, by: audit.Context) -> None:
    """A new NHS number is checked across places before it is saved, and the check is
    audited in its own transaction, kept even when the save is then refused (ADR 0010)."""
    if not nhs or not may_match_across_places(by):
        return
    before = Person.objects.filter(pk=person.pk).values_list("nhs_number", "place_id").first()
    if before is None or before[0] == nhs:
        return
    find_duplicates(
        place=Place.objects.get(pk=before[1]),
        nhs=nhs,
        given_name="",
        family_name="",
        date_of_birth=None,
        by=by,
        exclude_id=person.pk,
    )


# Other apps' dated records about a person (ratings, events...): a date of birth may not be
# moved after any of them. Registered from their AppConfig.ready(); people imports none.
EARLIEST_RECORD: list[Callable[[Person], date | None]] = []


def register_dated_records(earliest: Callable[[Person], date | None]) -> None:
    if earliest not in EARLIEST_RECORD:
        EARLIEST_RECORD.append(earliest)


def _check_birth_before_records(person: Person, born: date) -> None:
    found = [day for earliest in EARLIEST_RECORD if (day := earliest(person)) is not None]
    started = NetworkMember.objects.filter(person=person).order_by("started_on")
    first_member = started.values_list("started_on", flat=True).first()
    found += [first_member] if first_member else []
    if found and born > min(found):
        raise ValidationError(
            {
                "date_of_birth": "The date of birth must be before the person's first record "
                f"({min(found):%-d %B %Y})"
            }
        )


def update_person(
    *, person: Person, data: dict[str, Any], expected_version: int, by: audit.Context
) -> Person:
    """Save an edit made from `expected_version`; returns the saved record.

    What changed is derived from the locked row, so the change event is right whatever
    the caller's copy holds. StaleVersion if someone saved in between.
    """
    cleaned = _clean(data, required=False)
    _check_new_number(person=person, nhs=cleaned.get("nhs_number"), by=by)
    try:
        with transaction.atomic():
            current = lock(person)
            require_acting_in(by, current.place_id)
            if current.version != expected_version:
                raise StaleVersion()
            if not current.is_open:
                raise ValidationError(CLOSED_RECORD)
            changes = {
                name: [getattr(current, name), value]
                for name, value in cleaned.items()
                if getattr(current, name) != value
            }
            if not changes:
                return current
            if "nhs_number" in changes:
                if not may_match_across_places(by):
                    raise ValidationError({"nhs_number": NHS_NUMBER_LOCKED})
                _refuse_taken_number(
                    nhs=cleaned["nhs_number"], place=current.place, exclude_id=current.pk
                )
            if "date_of_birth" in changes:
                check_age_in_range(
                    date_of_birth=cleaned["date_of_birth"], policy=current.place.settings
                )
                _check_birth_before_records(current, cleaned["date_of_birth"])
            values = {name: new for name, (_old, new) in changes.items()}
            if set(changes) & set(NAME_FIELDS):
                names = {f: values.get(f, getattr(current, f)) for f in NAME_FIELDS}
                values["search_name"] = text.search_key(*names.values())
            current.save_if_current(expected_version, **values)
            audit.record(
                context=by,
                action=AuditAction.CHANGED,
                obj=current,
                person_id=current.pk,
                place_id=current.place_id,
                changes={**changes, "version": [expected_version, current.version]},
            )
    except IntegrityError as error:
        raise ValidationError({"nhs_number": NHS_NUMBER_TAKEN_HERE}) from error
    return current


def close_record(
    *,
    person: Person,
    reason: str,
    closed_on: date,
    note: str,
    expected_version: int,
    by: audit.Context,
) -> Person:
    """Take a person off the register. The record is kept (never deleted)."""
    validation.one_of(
        reason,
        ClosureReason,
        field="closure_reason",
        message="Select why this person is leaving the register",
    )
    validation.a_past_date(closed_on, field="closed_on", label="date closed")
    note = validation.text(
        note, field="closure_note", label="Note", max_length=2000, required=False
    )
    with transaction.atomic():
        current = lock(person)
        require_acting_in(by, current.place_id)
        if current.version != expected_version:
            raise StaleVersion()
        if not current.is_open:
            raise ValidationError("This record is already closed")
        if closed_on < current.date_of_birth:
            raise ValidationError({"closed_on": "The date closed must be after the date of birth"})
        current.save_if_current(
            expected_version,
            status=Status.CLOSED,
            closure_reason=reason,
            closed_on=closed_on,
            closure_note=note,
        )
        audit.record(
            context=by,
            action=AuditAction.CLOSED,
            obj=current,
            person_id=current.pk,
            place_id=current.place_id,
            changes={"closure_reason": [None, reason], "closed_on": [None, closed_on]},
        )
    return current


def keep_risk_picture(*, person: Person, **values: Any) -> None:
    """The register's copy of the current rating, review due and "review now" (ADR 0007).

    Called only by dsr.risk's services, inside the operation (holding the person's lock)
    that changes the picture. Not a versioned edit: an open edit form is not made stale.
    """
    allowed = {"current_rating", "rated_on", "review_due", "review_now"}
    if not values or set(values) - allowed:
        raise ValueError(f"Only {sorted(allowed)} make the risk picture")
    Person.objects.filter(pk=person.pk).update(**values)
    for name, value in values.items():
        setattr(person, name, value)


# --- The care network ------------------------------------------------------------------


def network_users(person: Person) -> Any:
    """The users of the register in the person's current care network (a subquery)."""
    return NetworkMember.objects.current().filter(person=person).values("user_id")


def add_network_member(
    *,
    person: Person,
    name: str,
    started_on: date,
    by: audit.Context,
    job_title: str = "",
    organisation: Organisation | None = None,
    user: Any = None,
    is_lead: bool = False,
) -> NetworkMember:
    """A professional joins the person's care network; a linked partner then sees them."""
    name = validation.text(name, field="name", label="Name", max_length=150, required=True)
    job_title = validation.text(
        job_title, field="job_title", label="Role", max_length=150, required=False
    )
    validation.a_past_date(started_on, field="started_on", label="start date")
    if not isinstance(is_lead, bool):
        raise ValidationError({"is_lead": "Select whether they are the lead professional"})
    with transaction.atomic():
        current = lock_open(person, by)
        if started_on < current.date_of_birth:
            raise ValidationError(
                {"started_on": "The start date cannot be before the person's date of birth"}
            )
        check_organisation(organisation, current.place_id, field="organisation")
        if (
            user is not None
            and not Membership.objects.filter(
                user=user, place_id=current.place_id, is_active=True, role=Role.PARTNER
            ).exists()
        ):
            raise ValidationError(
                {"user": "Only a partner of this place can be linked to a care network"}
            )
        member = NetworkMember.objects.create(
            person=current,
            place_id=current.place_id,
            name=name,
            job_title=job_title,
            organisation=organisation,
            user=user,
            is_lead=is_lead,
            started_on=started_on,
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=member,
            person_id=current.pk,
            place_id=current.place_id,
            changes={"name": [None, name], "user": [None, getattr(user, "email", None)]},
        )
    return member
