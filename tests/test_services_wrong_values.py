"""Services refuse a value of the wrong kind with the words a form would use, and write
nothing (DESIGN.md principle 3: a form is not a service's only caller). Each case was found
by a review that called every service directly (ADR 0043): it was taken as something else
(an empty text as today, "no" as yes), or it stopped the service with a TypeError,
AttributeError, ValueError or the database's IntegrityError.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from dsr.accounts import services as accounts
from dsr.actions import services as actions
from dsr.consent import services as consent
from dsr.core import dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.keywork import services as keywork
from dsr.meetings import services as meetings
from dsr.meetings.models import Attendee
from dsr.people import services as people
from dsr.places import services as places
from dsr.referrals import services as referrals
from dsr.risk import services as risk
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import READS


def _rows() -> dict[str, int]:
    """Every table of the register's own, counted, and the audit trail's writes."""
    counts = {
        model.__name__: model._default_manager.count()
        for model in apps.get_models()
        if model.__module__.startswith("dsr.")
    }
    counts["audit writes"] = AuditEvent.objects.exclude(action__in=READS).count()
    return counts


class NothingWritten:
    def __enter__(self):
        self.before = _rows()

    def __exit__(self, *exc):
        after = _rows()
        assert after == self.before, {
            k: (self.before[k], v) for k, v in after.items() if v != self.before[k]
        }


TODAY = dates.today()


def _action(person, **given):
    return actions.open_action(
        person=person, description="Call", due_on=TODAY, source="other", by=SYSTEM, **given
    )


def _meeting(place):
    return meetings.schedule_meeting(place=place, held_on=TODAY, by=SYSTEM)


CASES = [
    # An empty text or a 0 is not "no date given": only None means today.
    (
        "first contact without its date",
        lambda p: referrals.record_first_contact(
            referral=p["referral"],
            contacted_on=None,
            how="phone",
            note="",
            expected_version=1,
            by=SYSTEM,
        ),
        "contacted_on",
    ),
    (
        "first contact dated ''",
        lambda p: referrals.record_first_contact(
            referral=p["referral"],
            contacted_on="",
            how="phone",
            note="",
            expected_version=1,
            by=SYSTEM,
        ),
        "contacted_on",
    ),
    (
        "a decline dated 0",
        lambda p: referrals.decline_referral(
            referral=p["referral"],
            reason="Not for us",
            how="phone",
            expected_version=1,
            by=SYSTEM,
            on=0,
        ),
        "decided_on",
    ),
    (
        "a circumstance dated ''",
        lambda p: people.record_circumstance(
            person=p["person"], area="health", standing="well", note="", by=SYSTEM, recorded_on=""
        ),
        "recorded_on",
    ),
    (
        "a rating dated ''",
        lambda p: risk.rate(
            person=p["person"], rating="A", rationale="x", decided_on="", by=SYSTEM
        ),
        "decided_on",
    ),
    (
        "an action's progress dated ''",
        lambda p: actions.update_action(
            action=p["action"], status="done", note="", expected_version=1, by=SYSTEM, on=""
        ),
        "on",
    ),
    (
        "a keyworker from ''",
        lambda p: keywork.allocate_keyworker(
            person=p["person"], keyworker=p["keyworker"], started_on="", by=SYSTEM
        ),
        "started_on",
    ),
    # Yes or no is a bool, not a text.
    (
        "absent 'no'",
        lambda p: meetings.mark_absent(attendee=p["attendee"], absent="no", by=SYSTEM),
        "absent",
    ),
    # A meeting's date the register can work with.
    (
        "a meeting on 1 January 1",
        lambda p: meetings.schedule_meeting(place=p["place"], held_on=date(1, 1, 1), by=SYSTEM),
        "held_on",
    ),
    (
        "a meeting on 31 December 9999",
        lambda p: meetings.schedule_meeting(
            place=p["place"], held_on=date(9999, 12, 31), by=SYSTEM
        ),
        "held_on",
    ),
    # A list of chosen things is a list of them.
    (
        "consent shared with None",
        lambda p: consent.record_consent(
            person=p["person"],
            given_by="parental",
            basis="parental",
            consenter="Mum",
            given_on=TODAY,
            evidence="signed_form",
            by=SYSTEM,
            share_with=None,
        ),
        "share_with",
    ),
    (
        "follow-ups None",
        lambda p: keywork.log_contact(
            person=p["person"],
            contacted_on=TODAY,
            kind="phone",
            with_whom="Mum",
            summary="Spoke",
            by=SYSTEM,
            follow_ups=None,
        ),
        "follow_ups",
    ),
    (
        "a follow-up that is text",
        lambda p: keywork.log_contact(
            person=p["person"],
            contacted_on=TODAY,
            kind="phone",
            with_whom="Mum",
            summary="Spoke",
            by=SYSTEM,
            follow_ups=["Ring back"],
        ),
        "follow_ups",
    ),
    (
        "risk factors as text",
        lambda p: risk.rate(
            person=p["person"], rating="A", rationale="x", factors="abc", by=SYSTEM
        ),
        "factors",
    ),
    # A user or an organisation is one chosen here, not an email, an id or a name.
    (
        "an action owned by an email",
        lambda p: _action(p["person"], owner_user="k@a.example"),
        "owner_user",
    ),
    (
        "an action owned by an id",
        lambda p: _action(p["person"], owner_user=p["keyworker"].pk),
        "owner_user",
    ),
    (
        "an action's organisation by name",
        lambda p: _action(p["person"], owner_name="Sam", owner_organisation="Social care"),
        "owner_organisation",
    ),
    (
        "a review's agreed action owned by a name in owner_user",
        lambda p: risk.record_review(
            person=p["person"],
            held_on=TODAY,
            participants="Team",
            summary="Reviewed",
            rating="G",
            rationale="Stable",
            agreed=[risk.AgreedAction(description="x", due_on=TODAY, owner_user="Sam")],
            by=SYSTEM,
        ),
        "owner_user",
    ),
    (
        "an attendee's organisation by name",
        lambda p: meetings.add_attendee(
            meeting=p["meeting"], name="Pat", organisation="NHS", by=SYSTEM
        ),
        "organisation",
    ),
    (
        "a care network partner by email",
        lambda p: people.add_network_member(
            person=p["person"], name="Pat", started_on=TODAY, user="partner@a.example", by=SYSTEM
        ),
        "user",
    ),
    (
        "a care network partner by id",
        lambda p: people.add_network_member(
            person=p["person"], name="Pat", started_on=TODAY, user=p["partner"].pk, by=SYSTEM
        ),
        "user",
    ),
    # The database's constraints are not the messages.
    (
        "a second place of the same name",
        lambda p: places.create_place(name="Place A", by=SYSTEM),
        "name",
    ),
    (
        "a second role in one place",
        lambda p: places.grant_membership(
            user=p["keyworker"], place=p["place"], role=Role.VIEWER, by=SYSTEM
        ),
        "user",
    ),
    (
        "a role for an email",
        lambda p: places.grant_membership(
            user="k@a.example", place=p["place"], role=Role.VIEWER, by=SYSTEM
        ),
        "user",
    ),
    (
        "an account with a name of 151 characters",
        lambda p: accounts.create_invited_user(
            email="new@a.example", full_name="N" * 151, job_title="", by=SYSTEM
        ),
        "full_name",
    ),
    (
        "an account without a name",
        lambda p: accounts.create_invited_user(
            email="new@a.example", full_name=None, job_title="", by=SYSTEM
        ),
        "full_name",
    ),
    (
        "a second account for an address",
        lambda p: accounts.create_invited_user(
            email=p["keyworker"].email.upper(), full_name="Kim", job_title="", by=SYSTEM
        ),
        "email",
    ),
    (
        "an account for no address",
        lambda p: accounts.create_invited_user(
            email="not an address", full_name="Kim", job_title="", by=SYSTEM
        ),
        "email",
    ),
]


@pytest.fixture
def given(place_a):
    person = factories.make_person(place_a, rating="R")
    people.add_network_member(person=person, name="Dr Who", started_on=TODAY, by=SYSTEM)
    meeting = _meeting(place_a)
    return {
        "place": place_a,
        "person": person,
        "referral": factories.make_referral(place_a),
        "action": _action(person, owner_name="Sam"),
        "keyworker": factories.make_user(place=place_a, role=Role.KEYWORKER, email="k@a.example"),
        "partner": factories.make_user(place=place_a, role=Role.PARTNER, email="partner@a.example"),
        "meeting": meeting,
        "attendee": meetings.add_attendee(meeting=meeting, name="Pat", by=SYSTEM),
    }


@pytest.mark.parametrize(("call", "field"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_value_of_the_wrong_kind_is_refused_and_nothing_is_written(given, call, field):
    with NothingWritten(), pytest.raises(ValidationError) as refused:
        call(given)
    assert field in refused.value.message_dict, refused.value


def test_a_referral_cannot_be_received_before_the_child_was_born(place_a):
    born = dates.add_years(TODAY, -3)
    with NothingWritten(), pytest.raises(ValidationError) as refused:
        factories.make_referral(place_a, date_of_birth=born, received_on=born - timedelta(days=1))
    assert refused.value.message_dict == {
        "received_on": ["The date received cannot be before the date of birth"]
    }


def test_marking_an_attendee_as_they_already_are_records_nothing(given):
    attendee = given["attendee"]
    with NothingWritten():
        meetings.mark_absent(attendee=attendee, absent=False, by=SYSTEM)
    meetings.mark_absent(attendee=attendee, absent=True, by=SYSTEM)
    assert Attendee.objects.get(pk=attendee.pk).absent is True
    changed = AuditEvent.objects.filter(action="changed", object_type="Attendee").get()
    assert changed.changes == {"absent": [False, True]}
