"""Referrals and triage (DOMAIN.md "The life of a record"): recorded, aged in working days
against the first-contact target, accepted (a new person or an existing record), declined
with a reason, or asked for more; every decision dated and attributed; never deleted."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from dsr.core import dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent, StaleVersion
from dsr.people import services as people
from dsr.people.models import Person
from dsr.referrals import services as referrals
from dsr.referrals.models import Referral, ReferralDecision, Status
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at, count_queries, error_messages


def test_a_referral_records_who_referred_why_and_consent(place_a):
    referral = factories.make_referral(place_a, nhs_number="943 476 5919")
    assert referral.status == Status.NEW and referral.reference.startswith("R-")
    assert referral.nhs_number == "9434765919"
    assert AuditEvent.objects.filter(object_type="Referral", action="created").count() == 1


def test_bad_referral_input_names_every_problem_and_writes_nothing(place_a):
    with pytest.raises(ValidationError) as refused:
        referrals.record_referral(
            place=place_a,
            data=factories.referral_data(
                given_name="",
                date_of_birth=dates.add_years(dates.today(), -30),
                nhs_number="123",
                referrer_email="not-an-email",
                consent_obtained="yes",
                consent_from="",
            ),
            by=SYSTEM,
        )
    assert set(refused.value.message_dict) >= {
        "given_name",
        "date_of_birth",
        "nhs_number",
        "referrer_email",
        "consent_from",
    }
    assert not Referral.objects.exists()


# Friday 19 December 2025: Christmas, Boxing Day and the weekends are not working days.
@time_machine.travel("2025-12-29 10:00:00+00:00")
def test_the_queue_ages_referrals_in_working_days_across_bank_holidays(client_for, place_a):
    factories.make_referral(place_a, received_on=date(2025, 12, 19), family_name="Oldest")
    factories.make_referral(place_a, received_on=date(2025, 12, 24), family_name="Newest")
    body = client_for(Role.COORDINATOR).get(at(place_a, "referrals:queue")).content.decode()
    oldest, newest = body.split("OLDEST")[1], body.split("NEWEST")[1]
    assert "4 working days ago" in oldest  # 22, 23, 24, 29 December
    assert "Due by" in oldest and "30 December 2025" in oldest.split("NEWEST")[0]
    assert "1 working day ago" in newest  # 29 December


@time_machine.travel("2026-11-23 10:00:00+00:00")
def test_first_contact_is_overdue_after_the_places_working_days(client_for, place_a):
    place_a.settings.first_contact_working_days = 2
    place_a.settings.save()
    factories.make_referral(place_a, received_on=date(2026, 11, 18))  # Wed: due Fri 20th
    body = client_for(Role.KEYWORKER).get(at(place_a, "referrals:queue")).content.decode()
    assert "Overdue" in body


def test_new_referrals_reach_coordinators_in_my_work_and_the_digest(client_for, cast, place_a):
    referral = factories.make_referral(place_a, given_name="Newly", family_name="Referred")
    body = client_for(Role.COORDINATOR).get(at(place_a, "work:my_work")).content.decode()
    assert f"Referral {referral.reference}: make first contact" in body
    mail.outbox.clear()
    call_command("send_reminders")
    digest = next(m for m in mail.outbox if m.to == [cast[Role.COORDINATOR].email])
    assert f"/referrals/{referral.pk}/" in digest.body
    assert "Newly" not in digest.body and "Referred" not in digest.body


def test_accepting_creates_the_person_through_the_register_and_links_the_referral(
    client_for, cast, place_a
):
    referral = factories.make_referral(place_a, given_name="Ama", family_name="New")
    person = referrals.accept_as_new_person(
        referral=referral,
        person_data=factories.person_data(given_name="Ama", family_name="New"),
        rating="A",
        rationale="Placement at risk",
        expected_version=referral.version,
        by=SYSTEM,
    )
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED and referral.person == person
    assert person.current_rating == "A"  # nobody joins the register unrated
    decision = ReferralDecision.objects.get(referral=referral)
    assert decision.decision == "accepted" and decision.decided_on == dates.today()
    with pytest.raises(ValidationError, match="already been decided"):
        referrals.decline_referral(
            referral=referral,
            reason="x",
            how="phone",
            expected_version=referral.version,
            by=SYSTEM,
        )


def test_accepting_for_an_existing_closed_record_opens_it_again_with_a_rating(place_a):
    existing = factories.make_person(place_a, given_name="Back", family_name="Again")
    people.close_record(
        person=existing,
        reason="risk_reduced",
        closed_on=dates.today(),
        note="",
        expected_version=existing.version,
        by=SYSTEM,
    )
    referral = factories.make_referral(
        place_a,
        given_name="Back",
        family_name="Again",
        date_of_birth=existing.date_of_birth,
        nhs_number=existing.nhs_number,
    )
    with pytest.raises(ValidationError, match="rating"):
        referrals.accept_for_existing_person(
            referral=referral, person=existing, expected_version=referral.version, by=SYSTEM
        )
    referrals.accept_for_existing_person(
        referral=referral,
        person=existing,
        rating="R",
        rationale="In crisis again",
        expected_version=referral.version,
        by=SYSTEM,
    )
    existing.refresh_from_db()
    assert existing.is_open and existing.current_rating == "R"


def test_the_accept_page_offers_the_existing_record_found_by_nhs_number(client_for, place_a):
    existing = factories.make_person(place_a, given_name="Known", family_name="Child")
    referral = factories.make_referral(place_a, nhs_number=existing.nhs_number)
    client = client_for(Role.COORDINATOR)
    page = client.get(at(referral, "referrals:accept")).content.decode()
    assert "This place may already have a record of them" in page and "CHILD, Known" in page
    response = client.post(
        at(referral, "referrals:accept"),
        {"action": "link", "person": existing.pk, "version": referral.version},
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.person == existing


def test_a_record_of_another_place_cannot_be_linked(client_for, place_a, person_b):
    referral = factories.make_referral(place_a)
    response = client_for(Role.COORDINATOR).post(
        at(referral, "referrals:accept"),
        {"action": "link", "person": person_b.pk, "version": referral.version},
    )
    assert response.status_code == 200
    assert "Choose one of the records listed" in error_messages(response)
    with pytest.raises(ValidationError, match="this place's register"):
        referrals.accept_for_existing_person(
            referral=referral, person=person_b, expected_version=referral.version, by=SYSTEM
        )


def test_declining_records_the_reason_and_how_it_was_communicated(client_for, place_a):
    referral = factories.make_referral(place_a)
    today = dates.today()
    response = client_for(Role.COORDINATOR).post(
        at(referral, "referrals:decline"),
        {
            "note": "Needs the early help team, not the DSR",
            "communicated": "letter",
            "decided_on_day": today.day,
            "decided_on_month": today.month,
            "decided_on_year": today.year,
            "version": referral.version,
        },
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    decision = referral.decisions.get()
    assert referral.status == Status.DECLINED
    assert (decision.note, decision.communicated) == (
        "Needs the early help team, not the DSR",
        "letter",
    )
    assert decision.decided_by.email == "coordinator@a.example"
    assert Referral.objects.filter(pk=referral.pk).exists()  # never deleted


def test_asking_for_more_information_keeps_it_waiting(place_a):
    referral = factories.make_referral(place_a)
    referrals.request_information(
        referral=referral,
        what="The school's view",
        how="email",
        expected_version=referral.version,
        by=SYSTEM,
    )
    referral.refresh_from_db()
    assert referral.status == Status.MORE_INFORMATION and referral.is_waiting


def test_a_stale_triage_is_refused(place_a):
    referral = factories.make_referral(place_a)
    referrals.record_first_contact(
        referral=referral,
        contacted_on=dates.today(),
        how="phone",
        note="",
        expected_version=1,
        by=SYSTEM,
    )
    with pytest.raises(StaleVersion):
        referrals.decline_referral(
            referral=referral, reason="x", how="phone", expected_version=1, by=SYSTEM
        )


def test_a_decision_cannot_be_dated_before_the_referral(place_a):
    referral = factories.make_referral(place_a, received_on=dates.today() - timedelta(days=2))
    with pytest.raises(ValidationError, match="before the referral came in"):
        referrals.request_information(
            referral=referral,
            what="x",
            how="phone",
            on=dates.today() - timedelta(days=5),
            expected_version=1,
            by=SYSTEM,
        )


def test_partners_viewers_and_other_places_never_see_referrals(client_for, place_a, place_b):
    referral = factories.make_referral(place_a, family_name="Secretchild")
    for role in (Role.PARTNER, Role.VIEWER, Role.AUDITOR, Role.PLACE_ADMIN, "outsider"):
        client = client_for(role)
        assert client.get(at(referral, "referrals:detail")).status_code == 404
        assert "SECRETCHILD" not in client.get(at(place_a, "referrals:queue")).content.decode()
    outsider = client_for("outsider")
    assert outsider.get(at(place_b, "referrals:detail", referral.pk)).status_code == 404


def test_the_queue_searches_by_reference_and_name(client_for, place_a):
    wanted = factories.make_referral(place_a, given_name="Siân", family_name="O’Brien")
    factories.make_referral(place_a, family_name="Other")
    client = client_for(Role.COORDINATOR)
    for query in (wanted.reference, wanted.reference.lower().replace("-", ""), "sian", "obrien"):
        body = client.get(at(place_a, "referrals:queue"), {"q": query}).content.decode()
        assert "<strong>1</strong> referral" in body, query


def test_queue_queries_do_not_grow_with_referrals(client_for, place_a):
    client = client_for(Role.COORDINATOR)
    url = at(place_a, "referrals:queue")
    factories.make_referral(place_a)
    client.get(url)
    first = count_queries(lambda: client.get(url))
    for _ in range(30):
        factories.make_referral(place_a)
    assert count_queries(lambda: client.get(url)) == first <= 13


def test_a_referral_accepted_for_someone_who_later_withdraws_goes_to_coordinators_only(
    client_for, place_a
):
    from dsr.consent import services as consent

    referral = factories.make_referral(place_a, family_name="Laterwithdrawn")
    person = referrals.accept_as_new_person(
        referral=referral,
        person_data=factories.person_data(family_name="Laterwithdrawn"),
        rating="A",
        rationale="x",
        expected_version=referral.version,
        by=SYSTEM,
    )
    consent.withdraw_consent(
        person=person, withdrawn_on=dates.today(), withdrawn_by="Mum", by=SYSTEM
    )
    keyworker = client_for(Role.KEYWORKER)
    assert keyworker.get(at(referral, "referrals:detail")).status_code == 404
    body = keyworker.get(at(place_a, "referrals:queue"), {"status": "all"}).content.decode()
    assert "LATERWITHDRAWN" not in body
    assert client_for(Role.COORDINATOR).get(at(referral, "referrals:detail")).status_code == 200
    assert Person.objects.filter(pk=person.pk).exists()
