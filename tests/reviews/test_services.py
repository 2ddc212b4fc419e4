"""C(E)TRs: CETR or CTR by age and EHC plan; requested, scheduled, held, report issued or
cancelled; consent and the panel before it is held; the Red rating's task completed by a
real link; the stay's next review; recommendations tracked to done."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from dsr.actions.models import Action
from dsr.core import dates
from dsr.core.models import AuditEvent, StaleVersion
from dsr.reviews import services as reviews
from dsr.reviews.models import Cetr, Recommendation
from dsr.reviews.scoping import with_progress
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import READS
from tests.hospital.factories import admit, arrange, discharge, hold, request_cetr

pytestmark = pytest.mark.django_db

MONDAY = "2026-03-02 10:00:00+00:00"
EARLIER = "2026-01-05 10:00:00+00:00"


class Unchanged:
    def __enter__(self):
        self.before = self.state()
        return self

    @staticmethod
    def state():
        return (
            list(Cetr.objects.order_by("id").values()),
            list(Action.objects.order_by("id").values()),
            Recommendation.objects.count(),
            AuditEvent.objects.exclude(action__in=READS).count(),
        )

    def __exit__(self, *exc):
        assert self.state() == self.before


def red_child(place, **extra):
    with time_machine.travel(EARLIER):
        return factories.make_person(place, rating="R", date_of_birth=date(2012, 6, 1), **extra)


# --- CETR or CTR ----------------------------------------------------------------------------


@time_machine.travel(MONDAY)
@pytest.mark.parametrize(
    ("born", "ehc_plan", "expected"),
    [
        (date(2012, 6, 1), "no", "cetr"),  # under 18: with education
        (date(2004, 6, 1), "yes", "cetr"),  # 21 with an EHC plan: with education
        (date(2004, 6, 1), "in_assessment", "ctr"),
        (date(2004, 6, 1), "no", "ctr"),
        (date(2008, 3, 2), "no", "ctr"),  # 18 today
        (date(2008, 3, 3), "no", "cetr"),  # 18 tomorrow
    ],
)
def test_cetr_or_ctr_is_chosen_from_age_and_ehc_plan(place_a, born, ehc_plan, expected):
    person = factories.make_person(place_a, date_of_birth=born, ehc_plan=ehc_plan)
    assert request_cetr(person).review_type == expected


@time_machine.travel(MONDAY)
def test_an_18th_birthday_before_the_review_makes_a_cetr_a_ctr(place_a):
    person = factories.make_person(place_a, date_of_birth=date(2008, 3, 20), ehc_plan="no")
    review = request_cetr(person)
    assert review.review_type == "cetr"
    assert arrange(review, on=date(2026, 3, 25)).review_type == "ctr"


def test_a_laep_meeting_is_recorded_but_never_counted(place_a):
    with time_machine.travel(MONDAY):
        person = red_child(place_a)
        meeting = request_cetr(person, kind="laep")
        assert meeting.review_type == "" and not meeting.counts
        # held without consent or a panel: it is a meeting, not a C(E)TR
        arrange(meeting, consent="", chair="", clinical_expert="", expert_by_experience="")
        held = hold(meeting)
        assert (held.status, held.report_due) == ("held", None)  # owes no C(E)TR report
        with pytest.raises(ValidationError, match="once a C\\(E\\)TR has been held"):
            reviews.issue_report(
                cetr=held, issued_on=dates.today(), expected_version=held.version, by=SYSTEM
            )
        # and it does not complete the Red rating's community C(E)TR task
        assert Action.objects.get(person=person, rule_key="community_cetr").status == "open"


# --- The lifecycle ----------------------------------------------------------------------------


@time_machine.travel(MONDAY)
def test_a_community_cetr_goes_from_requested_to_report_issued(place_a):
    person = red_child(place_a)
    task = Action.objects.get(person=person, rule_key="community_cetr")
    review = request_cetr(person)
    assert (review.status, review.task_id) == ("requested", task.pk)
    review = arrange(review, on=date(2026, 3, 2))
    assert review.status == "scheduled"
    review = hold(review)
    assert (review.status, review.report_due) == ("held", date(2026, 3, 16))  # 14 days
    # Holding it completes the task the Red rating opened, through the link
    task.refresh_from_db()
    assert task.status == "done"
    assert task.updates.get().note == "Community C(E)TR held on 2 March 2026"
    review = reviews.issue_report(
        cetr=review, issued_on=date(2026, 3, 2), expected_version=review.version, by=SYSTEM
    )
    assert review.status == "report_issued"


@time_machine.travel(MONDAY)
def test_a_cetr_cannot_be_marked_held_without_consent(place_a):
    review = arrange(request_cetr(red_child(place_a)), consent="")
    with Unchanged(), pytest.raises(ValidationError, match="Record consent for this review"):
        hold(review)


@time_machine.travel(MONDAY)
def test_consent_dated_after_the_review_is_refused(place_a):
    review = request_cetr(red_child(place_a), on=date(2026, 2, 20))
    review = arrange(review, on=date(2026, 3, 2), consent_on=date(2026, 3, 2))
    with Unchanged(), pytest.raises(ValidationError) as refused:
        hold(review, on=date(2026, 3, 1))
    assert "consent must come before the review" in refused.value.message_dict["held_on"][0]


@time_machine.travel(MONDAY)
def test_a_best_interests_decision_stands_in_for_consent(place_a):
    adult = factories.make_person(place_a, date_of_birth=date(2003, 1, 1))
    review = arrange(request_cetr(adult), consent="best_interests")
    assert hold(review).status == "held"


@time_machine.travel(MONDAY)
def test_a_person_with_parental_responsibility_cannot_consent_for_an_adult(place_a):
    adult = factories.make_person(place_a, date_of_birth=date(2003, 1, 1))
    review = request_cetr(adult)
    with Unchanged(), pytest.raises(ValidationError, match="was an adult on that date"):
        arrange(review, consent="parental_responsibility")


@time_machine.travel(MONDAY)
def test_consent_needs_who_and_when(place_a):
    review = request_cetr(red_child(place_a))
    with Unchanged(), pytest.raises(ValidationError) as refused:
        reviews.update_cetr(
            cetr=review,
            data={"consent_basis": "young_person", "consent_given_by": "", "consent_on": None},
            expected_version=review.version,
            by=SYSTEM,
        )
    assert set(refused.value.message_dict) == {"consent_given_by", "consent_on"}


@time_machine.travel(MONDAY)
def test_a_cetr_cannot_be_marked_held_without_its_panel(place_a):
    review = arrange(request_cetr(red_child(place_a)), expert_by_experience="")
    with Unchanged(), pytest.raises(ValidationError, match="the expert by experience"):
        hold(review)


@time_machine.travel(MONDAY)
def test_a_report_dated_before_its_review_is_refused(place_a):
    review = hold(arrange(request_cetr(red_child(place_a))))
    with Unchanged(), pytest.raises(ValidationError) as refused:
        reviews.issue_report(
            cetr=review, issued_on=date(2026, 3, 1), expected_version=review.version, by=SYSTEM
        )
    assert refused.value.message_dict["report_issued_on"] == [
        "The report cannot be dated before the review (2 March 2026)"
    ]


@time_machine.travel(MONDAY)
def test_a_review_held_before_it_was_requested_is_refused(place_a):
    review = arrange(request_cetr(red_child(place_a)))
    with Unchanged(), pytest.raises(ValidationError, match="before it was requested"):
        hold(review, on=date(2026, 2, 27))


@time_machine.travel(MONDAY)
def test_cancelling_needs_a_reason_and_lets_go_of_the_task(place_a):
    person = red_child(place_a)
    review = request_cetr(person)
    with Unchanged(), pytest.raises(ValidationError, match="Enter why it was cancelled"):
        reviews.cancel_cetr(cetr=review, reason="", expected_version=1, by=SYSTEM)
    cancelled = reviews.cancel_cetr(
        cetr=review, reason="Family moved the date", expected_version=1, by=SYSTEM
    )
    assert cancelled.status == "cancelled"
    with Unchanged(), pytest.raises(ValidationError, match="no longer waiting to be held"):
        hold(cancelled)
    # The task waits for the next community C(E)TR, which takes it on
    again = request_cetr(person)
    assert again.task_id == cancelled.task_id


@time_machine.travel(MONDAY)
def test_a_second_live_review_of_a_kind_is_refused(place_a):
    person = red_child(place_a)
    request_cetr(person)
    with Unchanged(), pytest.raises(ValidationError, match="already requested"):
        request_cetr(person)


@time_machine.travel(MONDAY)
def test_a_stale_change_to_a_review_is_refused(place_a):
    review = request_cetr(red_child(place_a))
    arrange(review)
    with Unchanged(), pytest.raises(StaleVersion):
        reviews.hold_cetr(
            cetr=review, held_on=dates.today(), summary="x", expected_version=1, by=SYSTEM
        )


# --- Reviews of a stay ------------------------------------------------------------------------


@time_machine.travel(MONDAY)
def test_the_kind_must_match_where_the_person_is(place_a):
    person = red_child(place_a)
    with Unchanged(), pytest.raises(ValidationError, match="is not in hospital"):
        request_cetr(person, kind="post_admission")
    admit(person, admitted_on=date(2026, 2, 20))
    with Unchanged(), pytest.raises(ValidationError, match="is in hospital"):
        request_cetr(person, kind="community")


@time_machine.travel(MONDAY)
def test_holding_a_post_admission_cetr_sets_the_repeat_review(place_a):
    person = red_child(place_a)
    stay = admit(person, admitted_on=date(2026, 2, 20))
    assert (stay.cetr_due, stay.cetr_due_kind) == (date(2026, 3, 6), "post_admission")
    review = request_cetr(person, kind="post_admission")
    assert review.admission_id == stay.pk
    hold(arrange(review, on=date(2026, 3, 2)))
    stay.refresh_from_db()
    assert (stay.cetr_due, stay.cetr_due_kind) == (date(2026, 6, 2), "inpatient")  # 3 months


def test_a_community_cetr_before_the_admission_means_no_post_admission_one(place_a):
    person = red_child(place_a)
    with time_machine.travel("2026-02-02 10:00:00+00:00"):
        hold(arrange(request_cetr(person)))
    with time_machine.travel(MONDAY):
        stay = admit(person, admitted_on=date(2026, 2, 27))
    assert stay.community_cetr_before
    assert (stay.cetr_due, stay.cetr_due_kind) == (date(2026, 5, 27), "inpatient")


def test_a_community_cetr_before_an_earlier_stay_does_not_count_for_the_next(place_a):
    person = red_child(place_a)
    with time_machine.travel("2026-01-12 10:00:00+00:00"):
        hold(arrange(request_cetr(person)))
        stay = admit(person, admitted_on=date(2026, 1, 12))
    with time_machine.travel("2026-02-02 10:00:00+00:00"):
        discharge(stay, on=date(2026, 2, 2))
    with time_machine.travel(MONDAY):
        again = admit(person, admitted_on=date(2026, 3, 2))
    assert stay.community_cetr_before and not again.community_cetr_before
    assert again.cetr_due_kind == "post_admission"


def test_a_community_cetr_recorded_after_the_admission_but_held_before_it_counts(place_a):
    person = red_child(place_a)
    with time_machine.travel("2026-02-02 10:00:00+00:00"):
        review = arrange(request_cetr(person), on=date(2026, 2, 2))
    with time_machine.travel(MONDAY):
        stay = admit(person, admitted_on=date(2026, 2, 27))
        assert stay.cetr_due_kind == "post_admission"
        hold(review, on=date(2026, 2, 2))
    stay.refresh_from_db()
    assert stay.community_cetr_before and stay.cetr_due_kind == "inpatient"


# --- Recommendations ---------------------------------------------------------------------------


@time_machine.travel(MONDAY)
def test_recommendations_are_actions_with_owners_tracked_to_done(place_a, cast):
    from dsr.actions import services as actions
    from dsr.core.access import Role

    person = red_child(place_a)
    review = request_cetr(person)
    with Unchanged(), pytest.raises(ValidationError, match="once the review has been held"):
        reviews.add_recommendation(
            cetr=review, description="x", due_on=date(2026, 4, 1), owner_name="Sam", by=SYSTEM
        )
    review = hold(arrange(review))
    first = reviews.add_recommendation(
        cetr=review,
        description="Refer to the intensive support team",
        due_on=date(2026, 3, 20),
        owner_user=cast[Role.KEYWORKER],
        by=SYSTEM,
    )
    reviews.add_recommendation(
        cetr=review,
        description="Short breaks",
        due_on=date(2026, 4, 20),
        owner_name="Sam (social care)",
        by=SYSTEM,
    )
    assert first.action.source == "cetr" and first.action.owner_user == cast[Role.KEYWORKER]
    with Unchanged(), pytest.raises(ValidationError, match="cannot be before the review"):
        reviews.add_recommendation(
            cetr=review, description="x", due_on=date(2026, 3, 1), owner_name="Sam", by=SYSTEM
        )
    actions.update_action(
        action=first.action, status="done", note="Referred", expected_version=1, by=SYSTEM
    )
    with time_machine.travel("2026-04-21 10:00:00+00:00"):
        counted = with_progress(Cetr.objects.filter(pk=review.pk)).get()
        assert (
            counted.recommendations_done,
            counted.recommendations_open,
            counted.recommendations_overdue,
        ) == (1, 1, 1)
