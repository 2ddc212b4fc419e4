"""Transfers between places ("moved out of area", ADR 0021).

A coordinator transfers a person to another place: the record is closed here with the
reason (never deleted), and arrives in that place's referral queue as a transfer referral
carrying the record's history when consent allows. Accepting it there starts that place's
own record from what was carried (the receiving place then owns the person); declining it
sends it back: the record here is opened again. Both places' coordinators are told by email,
which names no one (only a link).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from dsr.actions import services as actions
from dsr.consent import services as consent
from dsr.core import audit, dates, outbox, validation
from dsr.core.access import Role, require_acting_in
from dsr.core.models import AuditAction, StaleVersion
from dsr.core.routing import absolute, url_in
from dsr.keywork import services as keywork
from dsr.people import services as people
from dsr.people import sharing
from dsr.people.choices import ClosureReason, ConsentState
from dsr.people.models import Person
from dsr.places.models import Membership, Place
from dsr.referrals import services
from dsr.referrals.models import ConsentObtained, Referral, Source
from dsr.risk import services as risk

HISTORY_SOURCES = (
    people.record.transfer_history,
    people.care_network.transfer_history,
    people.circumstance.transfer_history,
    risk.transfer_history,
    consent.transfer_history,
    keywork.transfer_history,
    actions.transfer_history,
)
NO_HISTORY = (
    "No consent to share is recorded, so only who the person is travels with this transfer. "
    "Ask the sending place for their history once consent is recorded"
)


def packet_for(person: Person) -> dict[str, Any]:
    """What travels: the whole history when consent to share is in force; otherwise only
    who the person is (people/sharing.py decides, as it does for every outward path)."""
    identity = people.record.transfer_history(person)
    if person.consent_state != ConsentState.GIVEN:
        return {**identity, "history_withheld": NO_HISTORY}
    packet: dict[str, Any] = {}
    for source in HISTORY_SOURCES:
        packet.update(source(person))
    return packet


def places_to_transfer_to(place_id: int) -> Any:
    return Place.objects.exclude(pk=place_id).order_by("name")


def _tell_coordinators(place_id: int, *, subject: str, line: str, link: str) -> None:
    """Queue a note to the place's coordinators (sent after commit: ADR 0014). Names no
    one: a transfer is about a child, and mail leaves the register."""
    coordinators = Membership.objects.filter(
        place_id=place_id, role=Role.COORDINATOR, is_active=True, user__is_active=True
    ).select_related("user")
    for membership in coordinators:
        outbox.queue(
            to=membership.user.email,
            subject=subject,
            body=f"Hello,\n\n{line}\n\n{link}\n\nSign in to see it.",
        )


def transfer_person(
    *,
    person: Person,
    to_place: Place,
    note: str,
    expected_version: int,
    by: audit.Context,
) -> Referral:
    """Close the record here (moved out of area) and send it to `to_place`'s queue."""
    note = validation.text(
        note, field="note", label="Why they are moving", max_length=4000, required=True
    )
    if not isinstance(to_place, Place):
        raise ValidationError({"to_place": "Choose the place they are moving to"})
    with transaction.atomic():
        current = people.lock_open(person, by)
        if current.version != expected_version:
            raise StaleVersion()
        if to_place.pk == current.place_id:
            raise ValidationError({"to_place": "Choose another place: they are on this register"})
        if not sharing.may_share(current, sharing.Audience(sharing.Channel.TRANSFER)):
            raise ValidationError(
                "Consent has been withdrawn: the record cannot go to another place. Close it"
            )
        packet = packet_for(current)
        sender = current.place
        referral = services._create(
            place=to_place,
            source=Source.TRANSFER,
            cleaned={
                "received_on": dates.today(),
                "referrer_name": getattr(by.actor, "full_name", "") or by.actor_label,
                "referrer_role": "DSR coordinator",
                "referrer_organisation": f"{sender.name} Dynamic Support Register",
                "referrer_phone": "",
                "referrer_email": getattr(by.actor, "email", "") or "",
                "given_name": current.given_name,
                "family_name": current.family_name,
                "date_of_birth": current.date_of_birth,
                "nhs_number": current.nhs_number,
                "postcode": current.postcode,
                "reason": note,
                "current_risks": current.key_safety_information,
                "consent_obtained": (
                    ConsentObtained.YES
                    if current.consent_state == ConsentState.GIVEN
                    else ConsentObtained.NOT_KNOWN
                ),
                "consent_from": "",
                "search_name": current.search_name,
            },
            by=audit.Context(
                actor=by.actor,
                place_id=to_place.pk,
                request_id=by.request_id,
                actor_label=by.actor_label,
            ),
            transferred_from=current,
            transfer_packet=packet,
        )
        audit.record(
            context=by,
            action=AuditAction.EXPORTED,
            obj=current,
            person_id=current.pk,
            place_id=current.place_id,
            changes={
                "to_place": to_place.name,
                "referral": referral.reference,
                "history": "history_withheld" not in packet,
            },
        )
        people.close_record(
            person=current,
            reason=ClosureReason.MOVED_OUT_OF_AREA,
            closed_on=dates.today(),
            note=f"Transferred to {to_place.name} (referral {referral.reference})",
            expected_version=current.version,
            by=by,
        )
        _tell_coordinators(
            to_place.pk,
            subject="DSR: a transfer has arrived in your referral queue",
            line=f"{sender.name} has transferred a record to {to_place.name}. It is waiting "
            "in your referral queue to be accepted or declined:",
            link=absolute(url_in(to_place.pk, "referrals:detail", referral.pk)),
        )
    return referral


def return_to_sender(referral: Referral, *, reason: str, by: audit.Context) -> None:
    """A declined transfer goes back: the sending place's record is opened again, in that
    place's chain, by the coordinator who declined it (the system acting on their decision:
    no role of theirs is held in the sending place)."""
    origin = referral.transferred_from
    if origin is None:
        raise ValueError("Not a transfer")
    require_acting_in(by, referral.place_id)
    for_origin = audit.Context(
        actor=by.actor,
        place_id=origin.place_id,
        request_id=by.request_id,
        actor_label=by.actor_label,
    )
    people.reopen_record(
        person=origin,
        note=f"Transfer to {referral.place.name} declined ({referral.reference}): {reason}",
        by=for_origin,
    )
    _tell_coordinators(
        origin.place_id,
        subject="DSR: a transfer you made has been declined",
        line=f"{referral.place.name} declined a record you transferred. It is open on your "
        "register again:",
        link=absolute(url_in(origin.place_id, "register:person", origin.pk)),
    )
