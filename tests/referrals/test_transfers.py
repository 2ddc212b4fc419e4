"""Transfers between places (moved out of area): the record closes here, arrives in the
other place's queue with its history when consent allows; accepted there, that place owns
the person; declined, the record here opens again. Never deleted (ADR 0021)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from dsr.consent import services as consent
from dsr.core import dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.core.outbox import send_pending
from dsr.people import services as people
from dsr.people.choices import ClosureReason
from dsr.people.models import Person
from dsr.referrals import services as referrals
from dsr.referrals import transfers
from dsr.referrals.models import Source, Status
from dsr.risk import services as risk
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at


def coordinator_of(place):
    user = factories.make_user(place=place, role=Role.COORDINATOR)
    from dsr.core import audit

    return audit.Context(
        actor=user, place_id=place.pk, actor_label=user.email, role=Role.COORDINATOR
    )


@pytest.fixture
def moving(place_a):
    person = factories.make_person(place_a, rating="A", given_name="Mo", family_name="Ving")
    consent.record_consent(
        person=person,
        given_by="parental",
        basis="parental",
        consenter="Dad",
        given_on=dates.today(),
        evidence="signed_form",
        by=SYSTEM,
    )
    risk.log_event(
        person=person, kind="police", occurred_on=dates.today(), description="Missing", by=SYSTEM
    )
    people.add_network_member(
        person=person, name="Ola SENCO", job_title="SENCO", started_on=dates.today(), by=SYSTEM
    )
    person.refresh_from_db()
    return person


def test_a_transfer_closes_the_record_here_and_arrives_there_with_its_history(
    moving, place_a, place_b
):
    by = coordinator_of(place_a)
    receiving = coordinator_of(place_b)
    referral = transfers.transfer_person(
        person=moving,
        to_place=place_b,
        note="Moved to Gran's",
        expected_version=moving.version,
        by=by,
    )
    moving.refresh_from_db()
    assert moving.status == "closed" and moving.closure_reason == ClosureReason.MOVED_OUT_OF_AREA
    assert referral.reference in moving.closure_note
    assert (referral.place, referral.source, referral.status) == (
        place_b,
        Source.TRANSFER,
        Status.NEW,
    )
    packet = referral.transfer_packet
    assert packet["person"]["family_name"] == "Ving"
    assert [r["rating"] for r in packet["ratings"]] == ["Amber"]
    assert packet["events"][0]["what"] == "Missing"
    assert packet["network"][0]["name"] == "Ola SENCO"
    exported = AuditEvent.objects.get(action="exported", person_id=moving.pk)
    assert exported.place_id == place_a.pk and exported.changes["history"] is True
    # the receiving coordinators are told, by an email that names no one
    send_pending()
    told = [m for m in mail.outbox if "transfer has arrived" in m.subject]
    assert [m.to for m in told] == [[receiving.actor.email]]
    assert "Ving" not in told[0].body and f"/referrals/{referral.pk}/" in told[0].body


def test_accepting_makes_the_receiving_place_the_owner(moving, place_a, place_b):
    referral = transfers.transfer_person(
        person=moving,
        to_place=place_b,
        note="Moved",
        expected_version=moving.version,
        by=coordinator_of(place_a),
    )
    data = {**factories.person_data(), **referral.transfer_packet["person"]}
    data["date_of_birth"] = moving.date_of_birth
    arrived = referrals.accept_as_new_person(
        referral=referral,
        person_data=data,
        rating="A",
        rationale="Carried over",
        expected_version=referral.version,
        by=coordinator_of(place_b),
    )
    assert arrived.place == place_b and arrived.nhs_number == moving.nhs_number
    assert arrived.is_open
    moving.refresh_from_db()
    assert not moving.is_open  # the first place keeps its closed record
    assert Person.objects.filter(pk=moving.pk).exists()


def test_declining_sends_it_back_open(moving, place_a, place_b):
    referral = transfers.transfer_person(
        person=moving,
        to_place=place_b,
        note="Moved",
        expected_version=moving.version,
        by=coordinator_of(place_a),
    )
    referrals.decline_referral(
        referral=referral,
        reason="They have moved on again",
        how="phone",
        expected_version=referral.version,
        by=coordinator_of(place_b),
    )
    moving.refresh_from_db()
    assert moving.is_open and moving.closure_reason == ""
    reopened = AuditEvent.objects.filter(
        person_id=moving.pk, action="changed", place_id=place_a.pk
    ).last()
    assert reopened.changes["status"] == ["closed", "open"]


def test_without_consent_to_share_only_who_they_are_travels(place_a, place_b):
    person = factories.make_person(place_a, rating="R")
    risk.log_event(
        person=person, kind="ae", occurred_on=dates.today(), description="A&E", by=SYSTEM
    )
    referral = transfers.transfer_person(
        person=person,
        to_place=place_b,
        note="Moved",
        expected_version=person.version,
        by=coordinator_of(place_a),
    )
    packet = referral.transfer_packet
    assert "person" in packet and "history_withheld" in packet
    assert "events" not in packet and "ratings" not in packet


def test_a_withdrawn_consent_record_cannot_be_transferred(place_a, place_b):
    person = factories.make_person(place_a)
    consent.withdraw_consent(
        person=person, withdrawn_on=dates.today(), withdrawn_by="Mum", by=SYSTEM
    )
    with pytest.raises(ValidationError, match="Consent has been withdrawn"):
        transfers.transfer_person(
            person=person,
            to_place=place_b,
            note="Moved",
            expected_version=person.version,
            by=coordinator_of(place_a),
        )
    person.refresh_from_db()
    assert person.is_open


def test_only_the_holding_places_coordinator_transfers(client_for, moving, place_b):
    assert client_for(Role.KEYWORKER).get(at(moving, "referrals:transfer")).status_code == 404
    with pytest.raises(Exception, match="another place"):
        transfers.transfer_person(
            person=moving,
            to_place=place_b,
            note="x",
            expected_version=moving.version,
            by=coordinator_of(place_b),
        )


def test_the_transfer_page_round_trip(client_for, moving, place_b):
    client = client_for(Role.COORDINATOR)
    response = client.post(
        at(moving, "referrals:transfer"),
        {"to_place": place_b.pk, "note": "Moving to Gran's", "version": moving.version},
    )
    assert response.status_code == 302
    moving.refresh_from_db()
    assert not moving.is_open
    page = client.get(at(moving, "register:person")).content.decode()
    assert "Transferred to Place B" in page
