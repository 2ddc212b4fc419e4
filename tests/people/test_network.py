"""The care network: professionals and family with start and end dates and history; a
partner linked to a professional sees that person only (DOMAIN.md, step 6)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from dsr.core import dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent, StaleVersion
from dsr.people import services as people
from dsr.people.models import NetworkMember
from dsr.places import services as places
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at, register_count


def test_family_and_carers_have_a_relationship_and_parental_responsibility(person_a):
    mum = people.add_network_member(
        person=person_a,
        kind="family",
        name="Sam Okafor",
        relationship="parent",
        parental_responsibility=True,
        phone="01632 960 002",
        started_on=dates.today(),
        by=SYSTEM,
    )
    assert mum.parental_responsibility and mum.get_relationship_display() == "Parent"
    with pytest.raises(ValidationError, match="relationship"):
        people.add_network_member(
            person=person_a, kind="family", name="Gran", started_on=dates.today(), by=SYSTEM
        )


def test_only_professionals_lead_and_only_one_at_a_time(person_a):
    people.add_network_member(
        person=person_a, name="Lead One", is_lead=True, started_on=dates.today(), by=SYSTEM
    )
    with pytest.raises(ValidationError, match="lead professional"):
        people.add_network_member(
            person=person_a, name="Lead Two", is_lead=True, started_on=dates.today(), by=SYSTEM
        )


def test_ending_a_member_keeps_them_as_history(client_for, person_a):
    member = people.add_network_member(
        person=person_a,
        name="Ola SENCO",
        job_title="SENCO",
        started_on=dates.today() - timedelta(days=30),
        by=SYSTEM,
    )
    people.end_network_member(
        member=member, ended_on=dates.today(), expected_version=member.version, by=SYSTEM
    )
    member.refresh_from_db()
    assert member.ended_on == dates.today()
    page = client_for(Role.COORDINATOR).get(at(person_a, "people:network")).content.decode()
    assert "Previously in the care network" in page and "Ola SENCO" in page
    assert NetworkMember.objects.filter(pk=member.pk).exists()
    with pytest.raises(ValidationError, match="kept"):
        people.update_network_member(
            member=member, data={"phone": "0"}, expected_version=member.version, by=SYSTEM
        )


def test_an_edit_from_a_stale_version_is_refused(person_a):
    member = people.add_network_member(
        person=person_a, name="Ola", started_on=dates.today(), by=SYSTEM
    )
    people.update_network_member(
        member=member, data={"phone": "01632 960 003"}, expected_version=1, by=SYSTEM
    )
    with pytest.raises(StaleVersion):
        people.update_network_member(
            member=member, data={"phone": "01632 960 004"}, expected_version=1, by=SYSTEM
        )
    member.refresh_from_db()
    assert member.phone == "01632 960 003"


def test_a_change_is_audited_with_what_changed(person_a):
    member = people.add_network_member(
        person=person_a, name="Ola", started_on=dates.today(), by=SYSTEM
    )
    people.update_network_member(
        member=member, data={"email": "OLA@School.example"}, expected_version=1, by=SYSTEM
    )
    event = AuditEvent.objects.filter(action="changed", object_type="NetworkMember").get()
    assert event.changes["email"] == ["", "ola@school.example"]


@pytest.mark.parametrize("phone", ["call me", "+44", "٠١٢٣"])
def test_a_phone_number_must_be_a_phone_number(person_a, phone):
    with pytest.raises(ValidationError, match="phone number"):
        people.add_network_member(
            person=person_a, name="Ola", phone=phone, started_on=dates.today(), by=SYSTEM
        )


def test_linking_a_partner_shows_them_this_person_and_only_this_person(client_for, cast, place_a):
    partner = cast[Role.PARTNER]
    theirs = factories.make_person(place_a, given_name="Theirs")
    factories.make_person(place_a, given_name="Others")
    client = client_for(Role.PARTNER)
    assert register_count(client.get(at(place_a, "register:list"))) == 0
    member = people.add_network_member(
        person=theirs, name="Pat Partner", started_on=dates.today(), by=SYSTEM
    )
    people.update_network_member(
        member=member, data={"user": partner}, expected_version=1, by=SYSTEM
    )
    assert register_count(client.get(at(place_a, "register:list"))) == 1
    assert client.get(at(theirs, "register:person")).status_code == 200
    # and once they leave the network, the person is out of their sight again
    member.refresh_from_db()
    people.end_network_member(
        member=member, ended_on=dates.today(), expected_version=member.version, by=SYSTEM
    )
    assert client.get(at(theirs, "register:person")).status_code == 404


def test_only_the_places_partners_can_be_linked(person_a, place_b, cast):
    elsewhere = factories.make_user(place=place_b, role=Role.PARTNER)
    with pytest.raises(ValidationError, match="partner of this place"):
        people.add_network_member(
            person=person_a, name="X", user=elsewhere, started_on=dates.today(), by=SYSTEM
        )
    with pytest.raises(ValidationError, match="partner of this place"):
        people.add_network_member(
            person=person_a,
            name="X",
            user=cast[Role.KEYWORKER],
            started_on=dates.today(),
            by=SYSTEM,
        )
    theirs = places.add_organisation(place=place_b, name="B School", kind="education", by=SYSTEM)
    with pytest.raises(ValidationError, match="organisation from this place"):
        people.add_network_member(
            person=person_a, name="X", organisation=theirs, started_on=dates.today(), by=SYSTEM
        )


def test_the_network_pages_add_edit_and_end(client_for, person_a):
    client = client_for(Role.KEYWORKER)
    today = dates.today()
    started = {
        "started_on_day": today.day,
        "started_on_month": today.month,
        "started_on_year": today.year,
    }
    response = client.post(
        at(person_a, "people:network_family_new"),
        {
            "name": "Ade Mensah",
            "relationship": "grandparent",
            "parental_responsibility": "False",
            **started,
        },
    )
    assert response.status_code == 302
    member = NetworkMember.objects.get(name="Ade Mensah")
    response = client.post(
        at(member, "people:network_edit"),
        {
            "name": "Ade Mensah",
            "relationship": "kinship_carer",
            "parental_responsibility": "True",
            "version": member.version,
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.relationship == "kinship_carer" and member.parental_responsibility
    response = client.post(
        at(member, "people:network_end"),
        {
            "ended_on_day": today.day,
            "ended_on_month": today.month,
            "ended_on_year": today.year,
            "version": member.version,
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.ended_on == today


def test_circumstances_keep_their_history_and_show_the_latest(client_for, person_a):
    people.record_circumstance(
        person=person_a,
        area="education",
        standing="significant",
        note="Excluded",
        recorded_on=dates.today() - timedelta(days=20),
        by=SYSTEM,
    )
    people.record_circumstance(
        person=person_a, area="education", standing="some", note="Back part-time", by=SYSTEM
    )
    with pytest.raises(ValidationError, match="current entry"):
        people.record_circumstance(
            person=person_a,
            area="education",
            standing="well",
            note="",
            recorded_on=dates.today() - timedelta(days=30),
            by=SYSTEM,
        )
    client = client_for(Role.VIEWER)
    page = client.get(at(person_a, "register:person")).content.decode()
    assert "Some concerns" in page and "Back part-time" in page
    assert "Significant concerns" not in page.split('id="standings"')[1].split("</dl>")[0]
    history = client.get(at(person_a, "people:circumstances")).content.decode()
    assert "Excluded" in history and "Back part-time" in history


def test_each_member_is_shown_with_their_role_tags_and_how_to_reach_them(client_for, person_a):
    people.add_network_member(
        person=person_a,
        name="Dr Siân O’Brien <b>",
        job_title="Consultant",
        is_lead=True,
        phone="01632 960 001",
        email="sian@nhs.example",
        started_on=dates.today(),
        by=SYSTEM,
    )
    people.add_network_member(
        person=person_a,
        kind="family",
        name="Sam Okafor",
        relationship="parent",
        parental_responsibility=True,
        phone="01632 960 002",
        started_on=dates.today(),
        by=SYSTEM,
    )
    coordinator = client_for(Role.COORDINATOR)
    for page in (at(person_a, "register:person"), at(person_a, "people:network")):
        html = coordinator.get(page).content.decode()
        assert "<strong>Dr Siân O’Brien &lt;b&gt;</strong>, Consultant" in html
        assert "nhsuk-tag--blue" in html and "Lead professional" in html
        assert '<span class="dsr-nowrap">01632 960 001</span> · ' in html
        assert '<span class="dsr-break">sian@nhs.example</span>' in html
        assert "<strong>Sam Okafor</strong>, parent" in html
        assert "Parental responsibility" in html and "nhsuk-tag--aqua-green" in html
