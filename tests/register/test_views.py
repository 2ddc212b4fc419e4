"""The register pages as a user drives them: the list, its search, adding a person."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from dsr.core import dates, nhs_number
from dsr.core.models import AuditEvent
from dsr.people.models import Person
from tests import factories
from tests.helpers import at, error_messages, register_count
from tests.people.test_views import Unchanged, form_data


def test_coordinator_adds_a_person_with_an_nhs_number_typed_with_spaces(coordinator, place_a):
    number = factories.next_nhs_number()
    typed = f"{number[:3]} {number[3:6]} {number[6:]}"
    response = coordinator.post(
        at(place_a, "register:add"), form_data(nhs_number=typed, given_name="Zed")
    )
    person = Person.objects.get(given_name="Zed")
    assert response.status_code == 302 and response["Location"] == at(person, "register:person")
    assert person.nhs_number == number and person.place == place_a
    page = coordinator.get(response["Location"]).content.decode()
    assert nhs_number.display(number) in page
    assert "has been added to the register" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nhs_number": "12345"}, "NHS number must be 10 digits"),
        ({"nhs_number": "943476591A"}, "NHS number must contain only numbers"),
        ({"nhs_number": "9434765918"}, "not a valid NHS number"),
        ({"nhs_number": "1000000010"}, "not a valid NHS number"),  # check digit would be 10
        ({"date_of_birth": dates.today() + timedelta(days=3)}, "must be today or in the past"),
        ({"date_of_birth": factories.born_years_ago(30)}, "The register is for people aged 0"),
        ({"date_of_birth_month": "13"}, "must be a real date"),
        ({"date_of_birth_year": ""}, "must include a year"),
        ({"given_name": "x" * 101}, "Given name must be 100 characters or fewer"),
        (
            {"key_safety_information": "x" * 4001},
            "Key safety information must be 4000 characters or fewer",
        ),
        ({"nhs_number": "٩٤٣٤٧٦٥٩١٩"}, "NHS number must contain only numbers"),
        ({"nhs_number": "999067418³"}, "NHS number must contain only numbers"),
        ({"factors": "99999999999999999999"}, "Select a valid choice"),
        ({"accommodation": "castle"}, "Select a valid choice"),
        ({"ethnicity": "QQ"}, "Select a valid choice"),
        ({"looked_after": "maybe"}, "Select a valid choice"),
        ({"given_name": ""}, "Enter the given name"),
    ],
)
def test_bad_input_on_add_gets_a_clear_error_and_writes_nothing(
    coordinator, place_a, overrides, message
):
    with Unchanged():
        response = coordinator.post(at(place_a, "register:add"), form_data(**overrides))
    assert response.status_code == 200
    assert any(message in text for text in error_messages(response)), error_messages(response)


def test_html_and_script_in_every_text_field_are_shown_escaped(coordinator, place_a):
    hostile = '<script>alert("x")</script><b>bold</b>'
    text_fields = [
        "given_name",
        "family_name",
        "preferred_name",
        "address",
        "local_authority",
        "gp_practice",
        "diagnosis_notes",
        "education_setting",
        "communication_needs",
        "key_safety_information",
    ]
    response = coordinator.post(
        at(place_a, "register:add"), form_data(**{f: hostile[:100] for f in text_fields})
    )
    assert response.status_code == 302
    page = coordinator.get(response["Location"]).content.decode()
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;" in page
    register = coordinator.get(at(place_a, "register:list"), {"q": "script"}).content.decode()
    assert "<script>alert" not in register


def test_a_duplicate_by_name_and_date_of_birth_must_be_confirmed(coordinator, place_a, person_a):
    data = form_data(
        given_name=person_a.given_name,
        family_name=person_a.family_name,
        date_of_birth=person_a.date_of_birth,
        nhs_number="",
    )
    with Unchanged():
        response = coordinator.post(at(place_a, "register:add"), data)
    body = response.content.decode()
    assert "may already be on a register" in body
    assert at(person_a, "register:person") in body
    response = coordinator.post(
        at(place_a, "register:add"), {**data, "confirm_not_duplicate": "on"}
    )
    assert response.status_code == 302


def test_a_duplicate_in_another_place_is_flagged_without_saying_who_or_where(
    coordinator, place_a, person_b
):
    with Unchanged():
        response = coordinator.post(
            at(place_a, "register:add"), form_data(nhs_number=person_b.nhs_number)
        )
    body = response.content.decode()
    assert "appears to be on another place&#39;s register" in body
    assert "transfer" in body
    assert at(person_b, "register:person") not in body
    assert "Bella" not in body and "Place B" not in body
    # the check itself is audited, with what was checked
    check = AuditEvent.objects.filter(action="checked").get()
    assert check.changes["nhs_number"] == person_b.nhs_number
    assert check.changes["found_elsewhere"] is True


def test_register_search_by_name_part_nhs_number_in_any_spacing_and_date_of_birth(
    coordinator, place_a
):
    alice = factories.make_person(place_a, given_name="Alice", family_name="Whitfield")
    factories.make_person(place_a, given_name="Bob", family_name="Jones")
    number = alice.nhs_number
    for query in [
        "whit",
        "ALICE",
        "Alice Whit",
        f"{number[:3]}-{number[3:6]}-{number[6:]}",
        f" {number} ",
    ]:
        response = coordinator.get(at(place_a, "register:list"), {"q": query})
        assert register_count(response) == 1, query
        assert "WHITFIELD" in response.content.decode()
    dob = alice.date_of_birth
    for query in [dob.strftime("%d/%m/%Y"), dob.isoformat(), f"{dob.day} {dob.month} {dob.year}"]:
        response = coordinator.get(at(place_a, "register:list"), {"q": query})
        assert "WHITFIELD" in response.content.decode(), query


def test_register_filters_by_status_and_shows_the_total(coordinator, place_a):
    for _ in range(3):
        factories.make_person(place_a)
    closed = factories.make_person(place_a, given_name="Gone")
    from dsr.people import services

    services.close_record(
        person=closed,
        reason="died",
        closed_on=dates.today(),
        note="",
        expected_version=1,
        by=factories.SYSTEM,
    )
    assert register_count(coordinator.get(at(place_a, "register:list"))) == 3
    assert register_count(coordinator.get(at(place_a, "register:list"), {"status": "closed"})) == 1
    assert register_count(coordinator.get(at(place_a, "register:list"), {"status": "all"})) == 4
    # unknown filter and sort values fall back to the defaults rather than failing
    response = coordinator.get(
        at(place_a, "register:list"), {"status": "zzz", "sort": "DROP TABLE", "page": "x"}
    )
    assert response.status_code == 200 and register_count(response) == 3


def test_register_is_paginated_at_50(coordinator, place_a):
    for _ in range(51):
        factories.make_person(place_a)
    first = coordinator.get(at(place_a, "register:list")).content.decode()
    assert len(re.findall(r'href="/places/\d+/people/\d+/"', first)) == 50
    assert "Page 2 of 2" in first


def test_searches_are_audited_with_their_terms_even_when_they_find_no_one(coordinator, place_a):
    coordinator.get(at(place_a, "register:list"), {"q": "Smith"})
    event = AuditEvent.objects.filter(action="searched").get()
    assert event.changes["terms"]["q"] == "Smith"
    assert event.changes["shown"] == []


@pytest.mark.parametrize(
    ("typed", "finds"),
    [
        ("sian", "Siân"),
        ("SIAN", "Siân"),
        ("zoe", "Zoë"),
        ("nunez", "Núñez"),
        ("Núñez", "Núñez"),
        ("o'brien", "O’Brien"),
        ("O’Brien", "O’Brien"),
        ("obrien", "O’Brien"),
        ("NUNEZ, Sian", "Siân"),
        ("OBRIEN, Zoe", "Zoë"),
        ("kowalczyk", "Kowalczyk-Hart"),
        ("hart", "Kowalczyk-Hart"),
    ],
)
def test_search_folds_case_accents_and_apostrophes_and_takes_the_list_s_own_form(
    coordinator, place_a, typed, finds
):
    factories.make_person(place_a, given_name="Siân", family_name="Núñez")
    factories.make_person(place_a, given_name="Zoë", family_name="O’Brien")
    factories.make_person(place_a, given_name="Tomasz", family_name="Kowalczyk-Hart")
    factories.make_person(place_a, given_name="Christian", family_name="Dunmore")
    response = coordinator.get(at(place_a, "register:list"), {"q": typed})
    body = response.content.decode()
    assert register_count(response) == 1, typed
    assert finds.upper() in html.unescape(body).upper()


def test_a_word_matches_the_start_of_a_name_not_its_middle(coordinator, place_a):
    factories.make_person(place_a, given_name="Christian", family_name="Dunmore")
    assert register_count(coordinator.get(at(place_a, "register:list"), {"q": "sian"})) == 0
    assert register_count(coordinator.get(at(place_a, "register:list"), {"q": "chris"})) == 1


def test_a_search_over_100_characters_is_an_error_not_the_whole_register(coordinator, place_a):
    factories.make_person(place_a)
    response = coordinator.get(at(place_a, "register:list"), {"q": "x" * 101})
    assert response.status_code == 200
    assert register_count(response) == 0
    message = "Name, NHS number or date of birth must be 100 characters or fewer"
    assert any(message in text for text in error_messages(response))


def test_a_superscript_or_eastern_digit_in_a_search_is_not_a_500(coordinator, place_a):
    for query in ["15/03/201²", "١٥/٠٣/٢٠١٢", "999067418³"]:
        response = coordinator.get(at(place_a, "register:list"), {"q": query})
        assert response.status_code == 200 and register_count(response) == 0


def test_a_closed_record_shows_its_closure_as_text_not_markup(coordinator, place_a):
    from dsr.people import services

    person = factories.make_person(place_a)
    services.close_record(
        person=person,
        reason="risk_reduced",
        closed_on=dates.today(),
        note="Settled <b>well</b>",
        expected_version=1,
        by=factories.SYSTEM,
    )
    body = coordinator.get(at(person, "register:person")).content.decode()
    closure = re.search(r'id="closure".*?</div>', body, re.S).group(0)
    assert "&lt;p&gt;" not in closure and "<p>Closed on" in closure
    assert "Settled &lt;b&gt;well&lt;/b&gt;" in closure
    # and a closed record takes no new actions
    assert at(person, "actions:new") not in body
    actions_before = person.actions.count()
    response = coordinator.post(
        at(person, "actions:new"),
        {
            "description": "x",
            "owner_name": "Sam",
            "due_on_day": "1",
            "due_on_month": "1",
            "due_on_year": "2030",
        },
    )
    assert response.status_code == 302 and person.actions.count() == actions_before


def test_rising_risk_lists_each_person_once_with_every_reason(client_for, place_a):
    from dsr.core.access import Role
    from dsr.risk import services as risk

    person = factories.make_person(place_a, rating="G")
    for kind in ("police", "ae"):
        risk.log_event(
            person=person, kind=kind, occurred_on=dates.today(), description="", by=factories.SYSTEM
        )
    body = client_for(Role.COORDINATOR).get(at(place_a, "register:rising_risk")).content.decode()
    assert body.count(at(person, "register:person")) == 1
    assert "Crisis event while rated Green" in body and "2 significant events" in body


def test_the_add_form_names_each_length_error_by_its_field(coordinator, place_a):
    response = coordinator.post(at(place_a, "register:add"), form_data(rationale="x" * 4001))
    message = "Why this rating must be 4000 characters or fewer"
    assert any(message in text for text in error_messages(response))


def test_unknown_filter_values_fall_back_quietly(coordinator, place_a):
    factories.make_person(place_a)
    response = coordinator.get(
        at(place_a, "register:list"),
        {"status": "zzz", "sort": "DROP", "rating": "P", "review": "x"},
    )
    assert register_count(response) == 1 and error_messages(response) == []


def test_an_nhs_number_already_open_is_refused_at_once_not_offered_for_confirming(
    coordinator, place_a, person_a
):
    data = form_data(nhs_number=person_a.nhs_number, confirm_not_duplicate="on")
    with Unchanged():
        response = coordinator.post(at(place_a, "register:add"), data)
    messages = error_messages(response)
    assert any("already an open record with this NHS number" in m for m in messages)
    assert not any("confirm this is a different person" in m for m in messages)
