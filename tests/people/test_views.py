"""The register pages as a user drives them: good input saves, bad input changes nothing."""

from __future__ import annotations

import re
from datetime import date

import pytest

from dsr.core import dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.people.forms import fingerprint
from dsr.people.models import Person
from tests import factories
from tests.helpers import READS, at, error_messages


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
        self.events = AuditEvent.objects.exclude(action__in=READS).count()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert list(Person.objects.order_by("id").values()) == self.people
            assert AuditEvent.objects.exclude(action__in=READS).count() == self.events


def edit_data(person, **overrides) -> dict[str, str]:
    values = {f: getattr(person, f) for f in ("given_name", "family_name", "nhs_number")}
    return form_data(
        **{**values, "date_of_birth": person.date_of_birth, "version": person.version, **overrides}
    )


def test_editing_saves_and_bumps_the_version(coordinator, person_a):
    response = coordinator.post(
        at(person_a, "people:edit"), edit_data(person_a, preferred_name="Ally")
    )
    assert response.status_code == 302
    person_a.refresh_from_db()
    assert person_a.preferred_name == "Ally" and person_a.version == 2


def test_a_stale_edit_keeps_what_was_typed_and_shows_what_changed_in_between(coordinator, person_a):
    # Two people open the form at version 1; the first saves a new preferred name.
    opened = edit_data(person_a, preferred_name="Second", address="1 New Road")
    opened["loaded"] = fingerprint(person_a)
    coordinator.post(
        at(person_a, "people:edit"),
        edit_data(person_a, preferred_name="First", gp_practice="Elm Tree Surgery"),
    )
    # The second person's save is refused, and nothing of theirs is written yet...
    with Unchanged():
        response = coordinator.post(at(person_a, "people:edit"), opened)
    body = response.content.decode()
    assert "Someone else changed this record" in body
    person_a.refresh_from_db()
    assert person_a.preferred_name == "First" and person_a.address == ""
    # ...but what they typed is still in the form, the field changed in between is named
    # with its new value, and the form now carries the current version
    assert 'value="Second"' in body and "1 New Road" in body
    # a field they did not touch shows what the other person saved, not their stale copy
    assert 'value="Elm Tree Surgery"' in body
    changed = re.search(r'id="changed-since".*?</dl>', body, re.S).group(0)
    assert "Preferred name" in changed and "First" in changed
    assert "Address" not in changed
    assert f'name="version" value="{person_a.version}"' in body
    # Saving again applies their change over the record as it now stands
    again = dict(opened, version=str(person_a.version), gp_practice="Elm Tree Surgery")
    assert coordinator.post(at(person_a, "people:edit"), again).status_code == 302
    person_a.refresh_from_db()
    assert person_a.preferred_name == "Second" and person_a.address == "1 New Road"
    assert person_a.gp_practice == "Elm Tree Surgery"


@pytest.mark.parametrize("version", ["", "abc", "-1", "0", "99999999999"])
def test_a_tampered_version_field_is_refused(coordinator, person_a, version):
    with Unchanged():
        response = coordinator.post(
            at(person_a, "people:edit"), edit_data(person_a, version=version)
        )
    assert response.status_code == 200
    assert error_messages(response)


def test_a_tampered_hidden_id_cannot_move_a_person_to_another_place(coordinator, person_a, place_b):
    response = coordinator.post(
        at(person_a, "people:edit"),
        {**edit_data(person_a), "place": place_b.pk, "id": 999},
    )
    assert response.status_code == 302
    person_a.refresh_from_db()
    assert person_a.place_id != place_b.pk and Person.objects.filter(pk=999).count() == 0


def test_closing_a_record_with_a_reason(coordinator, person_a):
    today = dates.today()
    response = coordinator.post(
        at(person_a, "people:close"),
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
    page = coordinator.get(at(person_a, "register:person")).content.decode()
    assert "Turned 25" in page and "Edit details" not in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"closure_reason": ""}, "Select why this person is leaving the register"),
        ({"closure_reason": "bored"}, "Select a valid choice"),
        ({"closed_on_year": str(dates.today().year + 1)}, "today or in the past"),
        ({"version": "7"}, "Someone else saved this while you were working"),
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
        response = coordinator.post(at(person_a, "people:close"), data)
    assert any(message in text for text in error_messages(response)), error_messages(response)


def test_who_has_accessed_this_record(client_for, person_a):
    client_for(Role.KEYWORKER).get(at(person_a, "register:person"))
    response = client_for(Role.COORDINATOR).get(at(person_a, "people:access"))
    body = response.content.decode()
    assert "keyworker@a.example" in body and "Viewed" in body


def test_auditor_searches_the_audit_trail_of_their_place_only(
    client_for, place_a, person_a, person_b
):
    client_for(Role.COORDINATOR).get(at(person_a, "register:person"))
    client_for("outsider").get(at(person_b, "register:person"))
    body = (
        client_for(Role.AUDITOR)
        .get(at(place_a, "audit_search"), {"who": "coordinator"})
        .content.decode()
    )
    assert "coordinator@a.example" in body
    assert "coord@b.example" not in body


def test_keyworker_cannot_close_but_can_edit(client_for, person_a):
    client = client_for(Role.KEYWORKER)
    assert client.get(at(person_a, "people:close")).status_code == 404
    assert client.get(at(person_a, "people:edit")).status_code == 200
    assert "Close record" not in client.get(at(person_a, "register:person")).content.decode()


def test_a_keyworker_edits_a_person_but_not_their_nhs_number(client_for, person_a):
    client = client_for(Role.KEYWORKER)
    page = client.get(at(person_a, "people:edit")).content.decode()
    assert re.search(r'<input[^>]*id="id_nhs_number"[^>]*disabled', page)
    assert "Only the team who add people to the register can change this" in page
    # a crafted post cannot change it either: the disabled field keeps the record's number
    response = client.post(
        at(person_a, "people:edit"),
        edit_data(person_a, nhs_number=factories.next_nhs_number(), preferred_name="Ali"),
    )
    assert response.status_code == 302
    old = person_a.nhs_number
    person_a.refresh_from_db()
    assert person_a.nhs_number == old and person_a.preferred_name == "Ali"


def test_a_coordinator_changing_an_nhs_number_to_one_elsewhere_learns_only_that(
    coordinator, person_a, person_b
):
    with Unchanged():
        response = coordinator.post(
            at(person_a, "people:edit"), edit_data(person_a, nhs_number=person_b.nhs_number)
        )
    body = response.content.decode()
    assert "appears to be on another place" in body
    assert "Place B" not in body and "Bella" not in body


def test_a_care_network_entry_saved_in_another_tab_names_what_it_now_says(client_for, person_a):
    """Found by a review: the stale save said "someone else saved this" and named nothing,
    then moved the form's version on, so the next save overwrote the change unseen."""

    from dsr.core import dates
    from dsr.people import services as people
    from tests.factories import SYSTEM

    member = people.add_network_member(
        person=person_a,
        kind="family",
        name="Sam Okafor",
        relationship="parent",
        parental_responsibility=True,
        phone="01632 960 002",
        started_on=dates.today(),
        by=SYSTEM,
    )
    opened = member.version
    people.update_network_member(
        member=member,
        data={
            "name": "Sam Okafor",
            "relationship": "parent",
            "parental_responsibility": True,
            "phone": "01632 960 999",
            "email": "",
        },
        expected_version=opened,
        by=SYSTEM,
    )
    client = client_for(Role.COORDINATOR)
    body = {
        "name": "Sam Okafor-Reid",
        "relationship": "parent",
        "parental_responsibility": "True",
        "phone": "01632 960 002",
        "version": opened,
    }
    refused = client.post(at(member, "people:network_edit"), body)
    [message] = [m for m in error_messages(refused) if "Someone else saved this" in m]
    assert "Phone: 01632 960 999" in message  # and their own change, the name, as it is now
