"""A withdrawn-consent person's identifiable data reach coordinators only (DOMAIN.md, ADR
0015): one function decides (people.sharing.may_share), and every outward path asks it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command

from dsr.consent import services as consent
from dsr.core import dates, nhs_number
from dsr.core.access import Role, Rule
from dsr.people import sharing
from dsr.people.choices import ConsentState
from dsr.people.models import Person
from tests import factories
from tests.core.test_access import build_world, concrete_url, walk
from tests.factories import SYSTEM
from tests.helpers import at, readable

# A name no page could show by chance.
GIVEN, FAMILY = "Zephyrine", "Quillfeather"


@pytest.fixture
def withdrawn(cast, place_a):
    """A person with every kind of record (so every page has something of them to show),
    whose consent is then withdrawn."""
    person = factories.make_person(
        place_a,
        rating="R",
        given_name=GIVEN,
        family_name=FAMILY,
        postcode="ZZ99 3QX",
        key_safety_information="Frightened of dogs",
    )
    world = build_world(person, partner=cast[Role.PARTNER], keyworker=cast[Role.KEYWORKER])
    factories.make_referral(place_a, given_name="Other", family_name="Child")
    consent.withdraw_consent(
        person=person, withdrawn_on=dates.today(), withdrawn_by="Their mother", by=SYSTEM
    )
    person.refresh_from_db()
    return world


def identifying(person: Person) -> list[str]:
    born = person.date_of_birth
    return [
        GIVEN,
        FAMILY,
        FAMILY.upper(),
        nhs_number.display(person.nhs_number),
        person.nhs_number,
        f"{born:%-d %B %Y}",
        "ZZ99 3QX",
        "Frightened of dogs",
    ]


def test_may_share_and_its_filter_agree_for_every_audience(place_a):
    given = factories.make_person(place_a)
    restricted = factories.make_person(place_a)
    consent.withdraw_consent(
        person=restricted, withdrawn_on=dates.today(), withdrawn_by="Mum", by=SYSTEM
    )
    for channel in sharing.Channel:
        for role in [*Role, None]:
            audience = sharing.Audience(channel, role)
            filtered = set(
                Person.objects.filter(pk__in=[given.pk, restricted.pk])
                .filter(sharing.shareable(audience))
                .values_list("pk", flat=True)
            )
            answered = {p.pk for p in (given, restricted) if sharing.may_share(p, audience)}
            assert filtered == answered, (channel, role)


def test_only_a_coordinators_screen_may_have_a_restricted_persons_details(place_a):
    person = factories.make_person(place_a)
    consent.withdraw_consent(
        person=person, withdrawn_on=dates.today(), withdrawn_by="Mum", by=SYSTEM
    )
    page = sharing.Channel.PAGE
    assert sharing.may_share(person, sharing.Audience(page, Role.COORDINATOR))
    for role in Role:
        if role != Role.COORDINATOR:
            assert not sharing.may_share(person, sharing.Audience(page, role))
    for channel in set(sharing.Channel) - {page}:
        assert not sharing.may_share(person, sharing.Audience(channel, Role.COORDINATOR))
    # and email never carries anyone's details, consent or not
    assert not sharing.may_share(
        factories.make_person(place_a), sharing.Audience(sharing.Channel.EMAIL, None)
    )


@pytest.mark.parametrize("role", [r for r in Role if r != Role.COORDINATOR])
def test_no_page_shows_a_restricted_persons_details_to_anyone_but_a_coordinator(
    role, client_for, withdrawn
):
    """Walk every GET page of the place as this role, with every record of the restricted
    person in the URL: none shows who they are."""
    client = client_for(role)
    secrets = identifying(withdrawn.person)
    for route, name, entry in walk():
        if name in ("accounts:sign_out", "switch_place") or entry.callback.access_rule is (
            Rule.PUBLIC
        ):
            continue
        url = concrete_url(name, route, place_id=withdrawn.person.place_id, ids=withdrawn.ids())
        for query in ({}, {"q": FAMILY}, {"q": withdrawn.person.nhs_number}, {"status": "all"}):
            body = readable(client.get(url, query))
            # what was typed is shown back ("0 people matching ..."): every other detail of
            # the person must stay hidden (a search by surname must not show their name)
            typed = query.get("q", "")
            shown = [s for s in secrets if s in body and s.lower() != typed.lower()]
            assert not shown, (role, url, query, shown)


def test_the_person_page_tells_others_the_record_is_restricted(client_for, withdrawn):
    body = client_for(Role.KEYWORKER).get(at(withdrawn.person, "register:person")).content
    assert "This record is restricted" in body.decode()
    assert f"Restricted record {withdrawn.person.pk}" in body.decode()


def test_a_coordinator_still_sees_who_they_are_and_that_the_record_is_flagged(
    client_for, withdrawn
):
    client = client_for(Role.COORDINATOR)
    body = client.get(at(withdrawn.person, "register:person")).content.decode()
    assert GIVEN in body and "Consent withdrawn" in body and "Close the record" in body
    listed = client.get(at(withdrawn.person.place, "register:list"), {"q": FAMILY})
    assert FAMILY.upper() in listed.content.decode()
    work = client.get(at(withdrawn.person.place, "work:my_work")).content.decode()
    assert "Close the record: consent withdrawn" in work


def test_others_lists_say_how_many_records_they_cannot_see(client_for, withdrawn):
    body = client_for(Role.VIEWER).get(at(withdrawn.person.place, "register:list")).content
    assert "1 restricted record is not listed" in body.decode()


def test_a_search_cannot_confirm_a_restricted_person_is_on_the_register(client_for, withdrawn):
    client = client_for(Role.KEYWORKER)
    for query in (FAMILY, GIVEN, withdrawn.person.nhs_number):
        body = client.get(at(withdrawn.person.place, "register:list"), {"q": query}).content
        assert "0 people" in body.decode() or "<strong>0</strong>" in body.decode()
        assert "restricted" not in body.decode().lower()


def test_reminder_emails_carry_no_names_at_all(cast, withdrawn, place_a):
    other = factories.make_person(place_a, rating="R", given_name="Ottoline", family_name="Vane")
    mail.outbox.clear()
    call_command("send_reminders")
    assert mail.outbox
    everything = "\n".join(m.subject + m.body for m in mail.outbox)
    for secret in [*identifying(withdrawn.person), "Ottoline", "Vane", other.nhs_number]:
        assert secret not in everything
    assert "/places/" in everything  # links, not names


def test_a_restricted_persons_forms_are_refused_and_the_refusal_audited(client_for, withdrawn):
    from dsr.core.models import AuditEvent

    client = client_for(Role.KEYWORKER)
    response = client.get(at(withdrawn.person, "people:edit"))
    assert response.status_code == 404
    denied = AuditEvent.objects.filter(action="denied", person_id=withdrawn.person.pk).last()
    assert denied.changes["reason"] == sharing.WITHHELD


def test_withdrawal_flags_the_record_for_closure_in_my_work(client_for, withdrawn):
    assert withdrawn.person.consent_state == ConsentState.WITHDRAWN
    body = (
        client_for(Role.COORDINATOR)
        .get(at(withdrawn.person.place, "work:my_work"))
        .content.decode()
    )
    assert "Records to close" in body


@pytest.mark.parametrize(
    ("rating", "role", "page"),
    [
        ("B", Role.KEYWORKER, "hospital:inpatients"),  # "Rated Blue, no stay recorded"
        ("B", Role.VIEWER, "hospital:inpatients"),
        ("R", Role.VIEWER, "keywork:caseloads"),  # "Eligible, with no keyworker"
    ],
)
def test_no_list_names_a_restricted_person_it_was_not_written_to_leave_out(
    client_for, place_a, rating, role, page
):
    """An IG review: two lists read the people door without the sharing rule (each list
    was to apply it itself), and named a restricted person with their date of birth. The
    door's lists apply it now, so a list cannot forget. The walk above missed them: its
    person had a stay recorded and a keyworker."""
    person = factories.make_person(place_a, rating=rating, given_name=GIVEN, family_name=FAMILY)
    consent.withdraw_consent(
        person=person, withdrawn_on=dates.today(), withdrawn_by="Their mother", by=SYSTEM
    )
    shown = client_for(role).get(at(place_a, page)).content.decode()
    assert GIVEN not in shown and FAMILY.upper() not in shown
    assert FAMILY.upper() in client_for(Role.COORDINATOR).get(at(place_a, page)).content.decode()
