"""The register pages as a user drives them: good input saves, bad input changes nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from dsr.core import dates, nhs_number
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.people.models import Person
from tests import factories
from tests.helpers import error_messages, register_count


def form_data(**overrides) -> dict[str, str]:
    data = factories.person_data()
    born: date = overrides.pop("date_of_birth", data.pop("date_of_birth"))
    data.pop("date_of_birth", None)
    posted = {k: str(v) for k, v in data.items()}
    posted.update(
        date_of_birth_day=str(born.day),
        date_of_birth_month=str(born.month),
        date_of_birth_year=str(born.year),
    )
    posted.update(rating="A", rationale="Placement wobbling; school reducing hours")
    posted.update({k: str(v) for k, v in overrides.items()})
    return posted


class Unchanged:
    """Proves a rejected submission wrote nothing: same rows, same audit trail."""

    def __enter__(self):
        self.people = list(Person.objects.order_by("id").values())
        self.events = AuditEvent.objects.exclude(
            action__in=["viewed", "searched", "denied"]
        ).count()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert list(Person.objects.order_by("id").values()) == self.people
            assert (
                AuditEvent.objects.exclude(action__in=["viewed", "searched", "denied"]).count()
                == self.events
            )


def test_coordinator_adds_a_person_with_an_nhs_number_typed_with_spaces(coordinator, place_a):
    number = factories.next_nhs_number()
    typed = f"{number[:3]} {number[3:6]} {number[6:]}"
    response = coordinator.post(
        reverse("people:new"), form_data(nhs_number=typed, given_name="Zed")
    )
    person = Person.objects.get(given_name="Zed")
    assert response.status_code == 302 and response["Location"] == reverse(
        "people:detail", args=[person.pk]
    )
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
        ({"given_name": "x" * 101}, "at most 100 characters"),
        ({"key_safety_information": "x" * 4001}, "at most 4000 characters"),
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
        response = coordinator.post(reverse("people:new"), form_data(**overrides))
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
        reverse("people:new"), form_data(**{f: hostile[:100] for f in text_fields})
    )
    assert response.status_code == 302
    page = coordinator.get(response["Location"]).content.decode()
    assert "<script>alert" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;" in page
    register = coordinator.get(reverse("people:register"), {"q": "script"}).content.decode()
    assert "<script>alert" not in register


def test_a_duplicate_by_name_and_date_of_birth_must_be_confirmed(coordinator, person_a):
    data = form_data(
        given_name=person_a.given_name,
        family_name=person_a.family_name,
        date_of_birth=person_a.date_of_birth,
        nhs_number="",
    )
    with Unchanged():
        response = coordinator.post(reverse("people:new"), data)
    body = response.content.decode()
    assert "may already be on a register" in body
    assert reverse("people:detail", args=[person_a.pk]) in body
    response = coordinator.post(reverse("people:new"), {**data, "confirm_not_duplicate": "on"})
    assert response.status_code == 302


def test_a_duplicate_in_another_place_is_flagged_without_a_link(coordinator, person_b):
    with Unchanged():
        response = coordinator.post(
            reverse("people:new"), form_data(nhs_number=person_b.nhs_number)
        )
    body = response.content.decode()
    assert "on a register you cannot see" in body
    assert reverse("people:detail", args=[person_b.pk]) not in body
    assert "Bella" not in body


def edit_data(person, **overrides) -> dict[str, str]:
    values = {f: getattr(person, f) for f in ("given_name", "family_name", "nhs_number")}
    return form_data(
        **{**values, "date_of_birth": person.date_of_birth, "version": person.version, **overrides}
    )


def test_editing_saves_and_bumps_the_version(coordinator, person_a):
    response = coordinator.post(
        reverse("people:edit", args=[person_a.pk]), edit_data(person_a, preferred_name="Ally")
    )
    assert response.status_code == 302
    person_a.refresh_from_db()
    assert person_a.preferred_name == "Ally" and person_a.version == 2


def test_a_stale_edit_is_refused_with_a_clear_message_and_the_newer_data_intact(
    coordinator, person_a
):
    coordinator.post(
        reverse("people:edit", args=[person_a.pk]), edit_data(person_a, preferred_name="First")
    )
    with Unchanged():
        response = coordinator.post(
            reverse("people:edit", args=[person_a.pk]), edit_data(person_a, preferred_name="Second")
        )
    assert "Someone else changed this record" in response.content.decode()
    person_a.refresh_from_db()
    assert person_a.preferred_name == "First"
    assert 'value="First"' in response.content.decode()


@pytest.mark.parametrize("version", ["", "abc", "-1", "0", "99999999999"])
def test_a_tampered_version_field_is_refused(coordinator, person_a, version):
    with Unchanged():
        response = coordinator.post(
            reverse("people:edit", args=[person_a.pk]), edit_data(person_a, version=version)
        )
    assert response.status_code == 200
    assert error_messages(response)


def test_a_tampered_hidden_id_cannot_move_a_person_to_another_place(coordinator, person_a, place_b):
    response = coordinator.post(
        reverse("people:edit", args=[person_a.pk]),
        {**edit_data(person_a), "place": place_b.pk, "id": 999},
    )
    assert response.status_code == 302
    person_a.refresh_from_db()
    assert person_a.place_id != place_b.pk and Person.objects.filter(pk=999).count() == 0


def test_closing_a_record_with_a_reason(coordinator, person_a):
    today = dates.today()
    response = coordinator.post(
        reverse("people:close", args=[person_a.pk]),
        {
            "closure_reason": "turned_25",
            "closed_on_day": today.day,
            "closed_on_month": today.month,
            "closed_on_year": today.year,
            "closure_note": "",
            "version": person_a.version,
        },
    )
    assert response.status_code == 302
    person_a.refresh_from_db()
    assert person_a.status == "closed"
    page = coordinator.get(reverse("people:detail", args=[person_a.pk])).content.decode()
    assert "Turned 25" in page and "Edit details" not in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"closure_reason": ""}, "Select why this person is leaving the register"),
        ({"closure_reason": "bored"}, "Select a valid choice"),
        ({"closed_on_year": str(dates.today().year + 1)}, "today or in the past"),
        ({"version": "7"}, "Someone else changed this record"),
    ],
)
def test_bad_input_on_close_changes_nothing(coordinator, person_a, overrides, message):
    today = dates.today()
    data = {
        "closure_reason": "died",
        "closed_on_day": today.day,
        "closed_on_month": today.month,
        "closed_on_year": today.year,
        "version": person_a.version,
        **overrides,
    }
    with Unchanged():
        response = coordinator.post(reverse("people:close", args=[person_a.pk]), data)
    assert any(message in text for text in error_messages(response)), error_messages(response)


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
        response = coordinator.get(reverse("people:register"), {"q": query})
        assert register_count(response) == 1, query
        assert "WHITFIELD" in response.content.decode()
    dob = alice.date_of_birth
    for query in [dob.strftime("%d/%m/%Y"), dob.isoformat(), f"{dob.day} {dob.month} {dob.year}"]:
        response = coordinator.get(reverse("people:register"), {"q": query})
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
    assert register_count(coordinator.get(reverse("people:register"))) == 3
    assert register_count(coordinator.get(reverse("people:register"), {"status": "closed"})) == 1
    assert register_count(coordinator.get(reverse("people:register"), {"status": "all"})) == 4
    # unknown filter and sort values fall back to the defaults rather than failing
    response = coordinator.get(
        reverse("people:register"), {"status": "zzz", "sort": "DROP TABLE", "page": "x"}
    )
    assert response.status_code == 200 and register_count(response) == 3


def test_register_is_paginated_at_50(coordinator, place_a):
    for _ in range(51):
        factories.make_person(place_a)
    first = coordinator.get(reverse("people:register")).content.decode()
    assert len(re.findall(r'href="/people/\d+/"', first)) == 50
    assert "Page 2 of 2" in first


def test_searches_are_audited(coordinator, place_a):
    coordinator.get(reverse("people:register"), {"q": "Smith"})
    event = AuditEvent.objects.filter(action="searched").get()
    assert event.changes["terms"]["q"] == "Smith"


def test_who_has_accessed_this_record(client_for, person_a):
    client_for(Role.KEYWORKER).get(reverse("people:detail", args=[person_a.pk]))
    response = client_for(Role.COORDINATOR).get(reverse("people:access", args=[person_a.pk]))
    body = response.content.decode()
    assert "keyworker@a.example" in body and "Viewed" in body


def test_auditor_searches_the_audit_trail_of_their_place_only(client_for, person_a, person_b):
    client_for(Role.COORDINATOR).get(reverse("people:detail", args=[person_a.pk]))
    client_for("outsider").get(reverse("people:detail", args=[person_b.pk]))
    body = (
        client_for(Role.AUDITOR)
        .get(reverse("audit_search"), {"who": "coordinator"})
        .content.decode()
    )
    assert "coordinator@a.example" in body
    assert "coord@b.example" not in body


def test_keyworker_cannot_close_but_can_edit(client_for, person_a):
    client = client_for(Role.KEYWORKER)
    assert client.get(reverse("people:close", args=[person_a.pk])).status_code == 404
    assert client.get(reverse("people:edit", args=[person_a.pk])).status_code == 200
    assert (
        "Close record"
        not in client.get(reverse("people:detail", args=[person_a.pk])).content.decode()
    )
