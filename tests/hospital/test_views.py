"""The hospital pages: recording a stay from the person page, the inpatient overview, and
bounded queries whatever the number of inpatients."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.hospital import services as hospital
from dsr.hospital.models import Admission
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at, count_queries, error_messages
from tests.hospital.factories import admit, discharge

MONDAY = "2026-03-02 10:00:00+00:00"


def stay_form(**overrides):
    data = {
        "hospital": "Moorside Hospital",
        "provider": "Moorside Healthcare Ltd",
        "provider_sector": "independent",
        "ward_type": "ld_unit",
        "legal_status": "s3",
        "admitted_on_day": "27",
        "admitted_on_month": "2",
        "admitted_on_year": "2026",
        "distance_miles": "85",
        "out_of_area": "yes",
        "on_register_before": "yes",
        "delay_reason": "",
    }
    data.update(overrides)
    return data


@time_machine.travel(MONDAY)
def test_a_coordinator_records_an_admission_from_the_person_page(coordinator, place_a):
    person = factories.make_person(place_a, given_name="Ada", date_of_birth=date(2012, 6, 1))
    page = coordinator.get(at(person, "register:person")).content.decode()
    assert at(person, "hospital:admit") in page and "Not in hospital" in page
    response = coordinator.post(at(person, "hospital:admit"), stay_form())
    assert response.status_code == 302
    stay = Admission.objects.get(person=person)
    assert (stay.out_of_area, stay.distance_miles, stay.provider_sector) == (
        True,
        85,
        "independent",
    )
    page = coordinator.get(at(person, "register:person")).content.decode()
    assert "In hospital: Moorside Hospital" in page
    assert "3 days" in page  # length of stay, live
    assert "Post-admission C(E)TR, due 13 March 2026" in page


@time_machine.travel(MONDAY)
def test_an_empty_admission_form_names_each_missing_field(coordinator, person_a):
    response = coordinator.post(at(person_a, "hospital:admit"), {"hospital": ""})
    assert response.status_code == 200
    messages = " ".join(error_messages(response))
    for expected in (
        "Enter the hospital",
        "Enter the provider",
        "Select whether the provider is NHS or independent",
        "Select the ward type",
        "Enter the date admitted",
        "Select whether the hospital is out of area",
    ):
        assert expected in messages, messages
    assert not Admission.objects.exists()


@time_machine.travel(MONDAY)
def test_a_delayed_discharge_needs_its_reason_on_the_form(coordinator, person_a):
    response = coordinator.post(at(person_a, "hospital:admit"), stay_form(delayed_discharge="on"))
    assert any("Enter why the discharge is delayed" in m for m in error_messages(response))


@time_machine.travel(MONDAY)
def test_the_service_refusal_shows_beside_its_field(coordinator, place_a):
    person = factories.make_person(place_a, date_of_birth=date(2012, 6, 1))
    discharge(admit(person, admitted_on=date(2026, 1, 5)), on=date(2026, 2, 10))
    response = coordinator.post(at(person, "hospital:admit"), stay_form(admitted_on_day="1"))
    assert response.status_code == 200
    assert any("overlaps the stay" in m for m in error_messages(response))
    assert 'href="#id_admitted_on-day"' in response.content.decode()


@time_machine.travel(MONDAY)
def test_discharge_from_the_page_rates_red_and_the_rate_form_explains_why_not_green(
    coordinator, place_a
):
    person = factories.make_person(place_a, date_of_birth=date(2012, 6, 1))
    stay = admit(person, admitted_on=date(2026, 2, 1))
    response = coordinator.post(
        at(stay, "hospital:discharge"),
        {
            "discharged_on_day": "2",
            "discharged_on_month": "3",
            "discharged_on_year": "2026",
            "discharge_destination": "family_home",
            "version": "1",
        },
    )
    assert response.status_code == 302
    page = coordinator.get(at(person, "register:person")).content.decode()
    assert "rated Red until 16 March 2026" in page and at(stay, "hospital:red_lift") in page
    response = coordinator.post(
        at(person, "risk:rate"),
        {
            "rating": "G",
            "rationale": "Settled",
            "decided_on_day": "2",
            "decided_on_month": "3",
            "decided_on_year": "2026",
            "context": "other",
        },
    )
    assert any("stays Red until 16 March 2026" in m for m in error_messages(response))


@time_machine.travel(MONDAY)
def test_the_inpatient_overview_shows_what_a_commissioner_checks(client_for, place_a):
    ada = factories.make_person(
        place_a, given_name="Ada", family_name="Ashdown", date_of_birth=date(2012, 6, 1)
    )
    admit(
        ada,
        admitted_on=date(2026, 1, 5),
        out_of_area=True,
        distance_miles=140,
        delayed_discharge=True,
        delay_reason="Waiting for a supported-living placement",
    )
    home = factories.make_person(
        place_a, given_name="Bo", family_name="Brook", date_of_birth=date(2012, 6, 1)
    )
    discharge(admit(home, admitted_on=date(2026, 1, 5)), on=date(2026, 2, 1))
    body = client_for(Role.VIEWER).get(at(place_a, "hospital:inpatients")).content.decode()
    assert "ASHDOWN, Ada" in body and "BROOK" not in body
    assert "56 days in hospital" in body
    assert "Out of area" in body and "140 miles from home" in body
    assert "Waiting for a supported-living placement" in body
    # Post-admission C(E)TR was due 19 January; the visit 16 February: both overdue
    assert body.count("Overdue") == 2
    assert "<strong>1</strong> in hospital" in body
    assert "<strong>1</strong> with a C(E)TR overdue" in body
    listed = AuditEvent.objects.filter(action="listed", changes__page="inpatients").last()
    assert listed.changes["shown"] == [ada.pk]


@time_machine.travel(MONDAY)
def test_the_overview_lists_people_rated_blue_with_no_stay_recorded(coordinator, place_a):
    blue = factories.make_person(place_a, rating="B", given_name="Cy")
    body = coordinator.get(at(place_a, "hospital:inpatients")).content.decode()
    assert "Rated Blue, with no stay in hospital recorded" in body
    assert at(blue, "register:person") in body


def test_a_partner_sees_only_their_networks_inpatients_and_cannot_open_the_overview(
    client_for, cast, place_a
):
    with time_machine.travel(MONDAY):
        mine = factories.make_person(place_a, given_name="Mine")
        factories.in_network(mine, cast[Role.PARTNER])
        admit(mine)
        admit(factories.make_person(place_a, given_name="Theirs"))
    partner = client_for(Role.PARTNER)
    assert partner.get(at(place_a, "hospital:inpatients")).status_code == 404
    page = partner.get(at(mine, "register:person")).content.decode()
    assert "In hospital: Riverside Hospital" in page
    assert "Record the discharge" not in page  # not theirs to record


def _queries(client, url) -> int:
    client.get(url)
    return count_queries(lambda: client.get(url))


@time_machine.travel(MONDAY)
def test_the_inpatient_overview_queries_do_not_grow_with_inpatients(coordinator, place_a):
    url = at(place_a, "hospital:inpatients")
    admit(factories.make_person(place_a))
    factories.make_person(place_a, rating="B")
    first = _queries(coordinator, url)
    for _ in range(30):
        person = factories.make_person(place_a)
        stay = admit(person, delayed_discharge=True, delay_reason="Housing")
        hospital.record_visit(
            admission=stay, visited_on=date(2026, 3, 2), visited_by="C", findings="F", by=SYSTEM
        )
        factories.make_person(place_a, rating="B")
    # Session and user, the navigation's count, the totals, each list and its audited read
    assert _queries(coordinator, url) == first <= 21


@pytest.mark.parametrize("name", ["hospital:edit", "hospital:visit_new", "hospital:red_lift"])
def test_pages_of_a_stay_open_for_a_coordinator(coordinator, place_a, name):
    with time_machine.travel(MONDAY):
        stay = admit(factories.make_person(place_a))
        assert coordinator.get(at(stay, name)).status_code == 200


def test_the_person_page_shows_the_visits_of_the_current_stay_only(coordinator, place_a):
    """However many visits earlier stays had, the current stay's are shown; once the person
    is discharged no visit is listed (and none is read)."""
    with time_machine.travel("2026-01-20 10:00:00+00:00"):
        person = factories.make_person(place_a)
        first = admit(person, admitted_on=date(2026, 1, 2))
        for day in range(2, 14):  # more than the panel lists
            hospital.record_visit(
                admission=first,
                visited_on=date(2026, 1, day),
                visited_by="Ms Earlierstay",
                findings="F",
                by=SYSTEM,
            )
        discharge(first, on=date(2026, 1, 14))
    with time_machine.travel(MONDAY):
        stay = admit(person, admitted_on=date(2026, 2, 27))
        hospital.record_visit(
            admission=stay,
            visited_on=date(2026, 3, 1),
            visited_by="Mr Currentstay",
            findings="F",
            by=SYSTEM,
        )
        page = coordinator.get(at(person, "register:person")).content.decode()
        assert "Mr Currentstay" in page and "Ms Earlierstay" not in page
        discharge(stay, on=date(2026, 3, 2))
        page = coordinator.get(at(person, "register:person")).content.decode()
        assert 'id="oversight-visits"' not in page


@time_machine.travel(MONDAY)
def test_a_stay_saved_in_another_tab_is_named_and_the_next_save_keeps_what_was_typed(
    coordinator, place_a
):
    """Found by a review with two tabs: the second tab's save was refused ("check what it
    now says") without showing it, with the old version still in the form, so every later
    save was refused too until a reload lost what was typed."""
    import re

    stay = admit(factories.make_person(place_a))
    edit = at(stay, "hospital:edit")
    first = stay_form(version=str(stay.version), hospital="Elmside Hospital")
    second = stay_form(version=str(stay.version), distance_miles="55")
    assert coordinator.post(edit, first).status_code == 302
    refused = coordinator.post(edit, second)
    messages = error_messages(refused)
    assert any(
        "Someone else saved this" in m and "Hospital: Elmside Hospital" in m for m in messages
    )
    stay.refresh_from_db()
    assert (stay.hospital, stay.distance_miles) == ("Elmside Hospital", 85)
    page = refused.content.decode()
    assert 'value="55"' in page  # what they typed, kept
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert version == str(stay.version)
    saved = coordinator.post(edit, second | {"version": version})  # made knowing: theirs
    assert saved.status_code == 302
    stay.refresh_from_db()
    assert (stay.hospital, stay.distance_miles) == ("Moorside Hospital", 55)


@time_machine.travel(MONDAY)
def test_a_stale_save_moves_on_to_the_version_whose_values_it_names(
    coordinator, place_a, monkeypatch
):
    """A review: the page named the values of one read of the stay and took its version
    from a second. A save landing between the two was then overwritten unseen by the next
    save. Here a third save lands just after the page's fresh read: the page must name it,
    or move on only to the version it did name (so that the next save is refused again)."""
    import re

    from dsr.core import forms as core_forms
    from dsr.hospital import views
    from dsr.hospital.forms import AdmissionForm

    stay = admit(factories.make_person(place_a))
    edit, opened = at(stay, "hospital:edit"), str(stay.version)
    first = stay_form(version=opened, hospital="Elmside Hospital")
    assert coordinator.post(edit, first).status_code == 302

    def third_save_then(form, record, saved):
        now = Admission.objects.get(pk=stay.pk)
        data = AdmissionForm.initial_from(now) | {"hospital": "Northgate Hospital"}
        hospital.update_admission(
            admission=now,
            data=AdmissionForm.values_of(data),
            expected_version=now.version,
            by=SYSTEM,
        )
        core_forms.changed_meanwhile(form, record, saved)

    monkeypatch.setattr(views, "changed_meanwhile", third_save_then)
    refused = coordinator.post(edit, stay_form(version=opened, distance_miles="55"))
    shown = " ".join(error_messages(refused))
    moved_to = re.search(r'name="version" value="(\d+)"', refused.content.decode()).group(1)
    stay.refresh_from_db()
    assert stay.hospital == "Northgate Hospital" and "Elmside" in shown
    assert moved_to != str(stay.version), (moved_to, shown)
