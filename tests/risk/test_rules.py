"""Every setting-driven consequence of a rating, with dates pinned."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from dsr.actions.models import Action
from dsr.risk import rules, services
from dsr.risk.models import Rating, Signal
from tests import factories
from tests.factories import SYSTEM

pytestmark = pytest.mark.django_db

# Monday 2 November 2026: an ordinary working week.
MONDAY = "2026-11-02 10:00:00+00:00"


def rated(place, rating: str, **person):
    person = factories.make_person(place, rating=rating, **person)
    return person, Rating.objects.filter(person=person).latest("id")


@time_machine.travel(MONDAY)
@pytest.mark.parametrize(
    ("rating", "due"),
    [
        ("R", date(2026, 11, 9)),  # 7 days
        ("A", date(2026, 11, 30)),  # 28 days
        ("B", date(2026, 11, 16)),  # 14 days
        # 90 days lands on Sunday 31 January 2027: due the next working day.
        ("G", date(2027, 2, 1)),
    ],
)
def test_review_is_due_after_the_ratings_interval(place_a, rating, due):
    person, decision = rated(place_a, rating)
    assert decision.review_due == due
    assert person.review_due == due


def test_review_due_skips_a_bank_holiday():
    # Red on Friday 18 December 2026 + 7 days = Friday 25 December (Christmas): due Tuesday 29th
    # (Boxing Day falls on Saturday, its substitute day is Monday 28th).
    policy = type("Policy", (), {"review_days_red": 7})()
    assert rules.review_due(policy, "R", date(2026, 12, 18)) == date(2026, 12, 29)


@time_machine.travel(MONDAY)
def test_review_interval_is_a_place_setting(db):
    place = factories.make_place("Weekly", review_days_amber=7)
    _, decision = rated(place, "A")
    assert decision.review_due == date(2026, 11, 9)


@time_machine.travel(MONDAY)
def test_rating_red_requires_community_cetr_within_setting_days(place_a):
    person, _ = rated(place_a, "R")
    cetr = Action.objects.get(person=person, rule_key="community_cetr")
    assert cetr.due_on == date(2026, 11, 16)  # 14 days (setting)
    assert cetr.status == "open"


@time_machine.travel(MONDAY)
def test_red_again_does_not_open_a_second_cetr_task(place_a):
    person, _ = rated(place_a, "R")
    services.rate(person=person, rating="R", rationale="Still in crisis", by=SYSTEM)
    assert Action.objects.filter(person=person, rule_key="community_cetr").count() == 1


@time_machine.travel("2026-12-22 10:00:00+00:00")
def test_prompts_are_due_in_working_days_across_christmas(place_a):
    # Tuesday 22 December + 5 working days: 23, 24, (25, 26, 27, 28 off), 29, 30, 31.
    person, _ = rated(place_a, "A")
    prompt = Action.objects.get(person=person, rule_key="amber_meeting")
    assert prompt.due_on == date(2026, 12, 31)


@time_machine.travel(MONDAY)
@pytest.mark.parametrize(
    ("rating", "age", "prompted"),
    [("R", 12, True), ("A", 24, True), ("B", 3, True), ("G", 12, False)],
)
def test_keyworker_prompt_follows_rating_and_age(place_a, rating, age, prompted):
    person, _ = rated(place_a, rating, date_of_birth=factories.born_years_ago(age))
    assert Action.objects.filter(person=person, rule_key="keyworker_referral").exists() is prompted


@time_machine.travel(MONDAY)
def test_keyworker_eligibility_ages_and_ratings_are_settings(db):
    place = factories.make_place("Under 18s", keyworker_max_age=18, keyworker_ratings="R")
    older, _ = rated(place, "R", date_of_birth=factories.born_years_ago(19))
    amber, _ = rated(place, "A", date_of_birth=factories.born_years_ago(10))
    assert not Action.objects.filter(
        rule_key="keyworker_referral", person__in=[older, amber]
    ).exists()


@time_machine.travel(MONDAY)
def test_green_asks_to_name_cetr_partners(place_a):
    person, _ = rated(place_a, "G")
    assert Action.objects.filter(person=person, rule_key="green_partners").exists()


def test_a_rating_without_rationale_is_refused_and_writes_nothing(place_a):
    person = factories.make_person(place_a)
    before = Rating.objects.count()
    with pytest.raises(ValidationError, match="reason for this rating"):
        services.rate(person=person, rating="R", rationale="  ", by=SYSTEM)
    assert Rating.objects.count() == before
    assert not Action.objects.filter(person=person, rule_key="community_cetr").exists()


def test_ratings_are_never_overwritten_or_deleted(place_a):
    person = factories.make_person(place_a)
    decision = person.ratings.get()
    with pytest.raises(TypeError):
        decision.save()
    with pytest.raises(TypeError):
        decision.delete()
    services.rate(person=person, rating="A", rationale="Worse", by=SYSTEM)
    assert list(person.ratings.values_list("rating", flat=True)) == ["A", "G"]


def test_a_rating_cannot_be_dated_before_the_current_one_or_in_the_future(place_a):
    from datetime import timedelta

    person = factories.make_person(place_a)
    with pytest.raises(ValidationError, match="before the current one"):
        services.rate(
            person=person,
            rating="A",
            rationale="x",
            decided_on=person.rated_on - timedelta(days=1),
            by=SYSTEM,
        )
    with pytest.raises(ValidationError, match="today or in the past"):
        services.rate(
            person=person,
            rating="A",
            rationale="x",
            decided_on=person.rated_on + timedelta(days=1),
            by=SYSTEM,
        )


# --- Early warning ----------------------------------------------------------------


@time_machine.travel(MONDAY)
def test_any_crisis_event_for_a_green_person_flags_review_now_and_says_why(place_a):
    person, _ = rated(place_a, "G")
    services.log_event(
        person=person, kind="ae", occurred_on=date(2026, 11, 1), description="", by=SYSTEM
    )
    signal = Signal.objects.get(person=person)
    assert signal.rule == "crisis_while_green"
    assert "A&E attendance on 1 Nov 2026" in signal.explanation
    person.refresh_from_db()
    assert person.review_now


@time_machine.travel(MONDAY)
def test_two_events_in_30_days_flag_review_now(place_a):
    person, _ = rated(place_a, "A")
    services.log_event(
        person=person, kind="exclusion", occurred_on=date(2026, 10, 5), description="", by=SYSTEM
    )
    assert not Signal.objects.filter(person=person).exists()
    services.log_event(
        person=person, kind="medication", occurred_on=date(2026, 11, 2), description="", by=SYSTEM
    )
    signal = Signal.objects.get(person=person)
    assert (
        signal.rule == "run_of_events" and "2 significant events in 30 days" in signal.explanation
    )


@time_machine.travel(MONDAY)
def test_events_outside_the_window_do_not_count(place_a):
    person, _ = rated(place_a, "A")
    services.log_event(
        person=person, kind="exclusion", occurred_on=date(2026, 10, 2), description="", by=SYSTEM
    )
    services.log_event(
        person=person, kind="medication", occurred_on=date(2026, 11, 2), description="", by=SYSTEM
    )
    assert not Signal.objects.filter(person=person).exists()


@time_machine.travel(MONDAY)
def test_signal_rules_are_place_settings(db):
    place = factories.make_place("Quiet", signal_event_threshold=3, signal_crisis_when_green=False)
    person, _ = rated(place, "G")
    for day in (1, 2):
        services.log_event(
            person=person, kind="police", occurred_on=date(2026, 11, day), description="", by=SYSTEM
        )
    assert not Signal.objects.filter(person=person).exists()


@time_machine.travel(MONDAY)
def test_a_new_rating_clears_the_signal_and_the_flag(place_a):
    person, _ = rated(place_a, "G")
    services.log_event(
        person=person, kind="crisis_team", occurred_on=date(2026, 11, 2), description="", by=SYSTEM
    )
    decision = services.rate(person=person, rating="A", rationale="Crisis team involved", by=SYSTEM)
    person.refresh_from_db()
    assert not person.review_now
    assert Signal.objects.get(person=person).cleared_by == decision


def test_an_event_before_birth_is_refused(place_a):
    from datetime import timedelta

    person = factories.make_person(place_a)
    with pytest.raises(ValidationError, match="before the person's date of birth"):
        services.log_event(
            person=person,
            kind="ae",
            occurred_on=person.date_of_birth - timedelta(days=1),
            description="",
            by=SYSTEM,
        )


def test_a_review_in_the_future_is_refused_and_writes_nothing(place_a):
    from datetime import timedelta

    from dsr.core import dates
    from dsr.risk.models import Review

    person = factories.make_person(place_a)
    with pytest.raises(ValidationError, match="today or in the past"):
        services.record_review(
            person=person,
            held_on=dates.today() + timedelta(days=1),
            participants="Mum",
            summary="Fine",
            rating="G",
            rationale="Stable",
            by=SYSTEM,
        )
    assert not Review.objects.exists() and person.ratings.count() == 1


def test_a_review_confirms_the_rating_and_opens_agreed_actions(place_a):
    from dsr.core import dates

    person = factories.make_person(place_a)
    review = services.record_review(
        person=person,
        held_on=dates.today(),
        participants="Mum, school",
        summary="Going well",
        rating="G",
        rationale="Stable",
        agreed=[
            services.AgreedAction(
                description="Visit school", due_on=dates.today(), owner_name="Sam (SENCO)"
            )
        ],
        by=SYSTEM,
    )
    assert review.rating.context == "review" and review.rating.rating == "G"
    assert Action.objects.get(person=person, source="review").owner_label == "Sam (SENCO)"
