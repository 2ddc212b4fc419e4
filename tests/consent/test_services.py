"""Consent: who may consent on which basis, re-confirmation by the place's setting, and
withdrawal at any time (DOMAIN.md "Consent and information sharing")."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from dsr.consent import services as consent
from dsr.consent.models import Consent, Withdrawal
from dsr.core import dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.people.choices import ConsentState
from dsr.places import services as places
from tests import factories
from tests.factories import SYSTEM, born_years_ago
from tests.helpers import at


def give(person, **overrides):
    values = {
        "given_by": "parental",
        "basis": "parental",
        "consenter": "Sam Okafor (mother)",
        "given_on": dates.today(),
        "evidence": "signed_form",
        "by": SYSTEM,
    }
    values.update(overrides)
    return consent.record_consent(person=person, **values)


@pytest.mark.parametrize(
    ("age", "given_by", "basis", "ok"),
    [
        (14, "young_person", "gillick", True),
        (16, "young_person", "gillick", False),  # from 16 the Mental Capacity Act applies
        (16, "young_person", "capacity", True),
        (15, "young_person", "capacity", False),
        (17, "parental", "parental", True),
        (18, "parental", "parental", False),  # parental responsibility ends at 18
        (19, "best_interests", "best_interests", True),
        (15, "best_interests", "best_interests", False),
        (12, "parental", "gillick", False),  # the basis must fit who consented
    ],
)
def test_who_may_consent_on_which_basis_depends_on_age(place_a, age, given_by, basis, ok):
    person = factories.make_person(place_a, date_of_birth=born_years_ago(age))
    if ok:
        give(person, given_by=given_by, basis=basis)
        assert person.consent_state == ConsentState.GIVEN
    else:
        with pytest.raises(ValidationError) as refused:
            give(person, given_by=given_by, basis=basis)
        assert "basis" in refused.value.message_dict
        assert not Consent.objects.exists()


def test_consent_is_due_for_re_confirmation_by_the_places_setting(place_a):
    place_a.settings.consent_reconfirm_months = 6
    place_a.settings.save()
    person = factories.make_person(place_a)
    recorded = give(person, given_on=dates.today() - timedelta(days=10))
    assert recorded.reconfirm_by == dates.add_months(dates.today() - timedelta(days=10), 6)
    person.refresh_from_db()
    assert person.consent_reconfirm_by == recorded.reconfirm_by


def test_re_confirmation_due_soon_is_in_the_coordinators_my_work(client_for, place_a):
    person = factories.make_person(place_a, given_name="Reconfirm")
    with time_machine.travel(dates.today() - timedelta(days=360)):
        give(person)
    body = client_for(Role.COORDINATOR).get(at(place_a, "work:my_work")).content.decode()
    assert "Re-confirm consent" in body and "Reconfirm" in body


def test_the_organisations_consented_to_must_be_the_places_own(place_a, place_b):
    person = factories.make_person(place_a)
    theirs = places.add_organisation(place=place_b, name="B CAMHS", kind="nhs_trust", by=SYSTEM)
    with pytest.raises(ValidationError, match="this place"):
        give(person, share_with=[theirs])
    ours = places.add_organisation(place=place_a, name="A CAMHS", kind="nhs_trust", by=SYSTEM)
    assert list(give(person, share_with=[ours]).share_with.all()) == [ours]


def test_a_conversation_needs_details_of_what_was_said(place_a):
    person = factories.make_person(place_a)
    with pytest.raises(ValidationError, match="what was said"):
        give(person, evidence="conversation")
    assert give(person, evidence="conversation", evidence_note="Agreed by phone, 2pm").pk


def test_withdrawal_restricts_the_record_at_once_and_is_audited(place_a):
    person = factories.make_person(place_a)
    give(person)
    withdrawal = consent.withdraw_consent(
        person=person, withdrawn_on=dates.today(), withdrawn_by="Sam Okafor", by=SYSTEM
    )
    person.refresh_from_db()
    assert person.consent_state == ConsentState.WITHDRAWN
    assert person.consent_reconfirm_by is None
    event = AuditEvent.objects.filter(object_type="Withdrawal", object_id=str(withdrawal.pk)).get()
    assert event.changes["consent_state"] == ["given", "withdrawn"]
    with pytest.raises(ValidationError, match="already"):
        consent.withdraw_consent(
            person=person, withdrawn_on=dates.today(), withdrawn_by="Sam", by=SYSTEM
        )


def test_consent_can_be_given_again_after_a_withdrawal_but_not_dated_before_it(place_a):
    person = factories.make_person(place_a)
    consent.withdraw_consent(
        person=person, withdrawn_on=dates.today(), withdrawn_by="Mum", by=SYSTEM
    )
    with pytest.raises(ValidationError, match="last consent decision"):
        give(person, given_on=dates.today() - timedelta(days=1))
    give(person)
    person.refresh_from_db()
    assert person.consent_state == ConsentState.GIVEN
    assert Withdrawal.objects.count() == 1  # the history stays


def test_a_withdrawal_is_recorded_on_a_closed_record_too(place_a):
    from dsr.people import services as people

    person = factories.make_person(place_a)
    people.close_record(
        person=person,
        reason="risk_reduced",
        closed_on=dates.today(),
        note="",
        expected_version=person.version,
        by=SYSTEM,
    )
    consent.withdraw_consent(
        person=person, withdrawn_on=dates.today(), withdrawn_by="Mum", by=SYSTEM
    )
    person.refresh_from_db()
    assert person.consent_withdrawn


def test_consent_forms_through_the_pages(client_for, place_a):
    person = factories.make_person(place_a, date_of_birth=born_years_ago(13))
    client = client_for(Role.KEYWORKER)
    today = dates.today()
    response = client.post(
        at(person, "consent:new"),
        {
            "given_by": "young_person",
            "consenter": "Themselves",
            "basis": "gillick",
            "given_on_day": today.day,
            "given_on_month": today.month,
            "given_on_year": today.year,
            "evidence": "signed_form",
        },
    )
    assert response.status_code == 302
    page = client.get(at(person, "register:person")).content.decode()
    assert "Gillick competent" in page and "Re-confirm by" in page
    response = client.post(
        at(person, "consent:withdraw"),
        {
            "withdrawn_by": "Themselves",
            "withdrawn_on_day": today.day,
            "withdrawn_on_month": today.month,
            "withdrawn_on_year": today.year,
        },
    )
    assert response.status_code == 302
    # the keyworker now sees only that the record is restricted
    assert "This record is restricted" in client.get(at(person, "register:person")).content.decode()
