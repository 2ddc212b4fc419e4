"""Every C(E)TR and oversight-visit timescale of DOMAIN.md, with dates pinned: under 18 and
adult, secure and not, with and without a community C(E)TR before the admission, and the
17th and 18th birthdays during a stay."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from dsr.core import dates
from dsr.hospital import rules
from dsr.hospital.choices import NextCetr


def policy(**changes):
    """DOMAIN.md's defaults, as PlaceSettings holds them."""
    values = {
        "adult_age": 18,
        "post_admission_cetr_days_child": 14,
        "post_admission_cetr_days_adult": 28,
        "inpatient_cetr_months_child": 3,
        "inpatient_cetr_months_adult": 6,
        "inpatient_cetr_months_adult_secure": 12,
        "oversight_visit_weeks_child": 6,
        "oversight_visit_weeks_adult": 8,
        "post_discharge_red_days": 14,
    }
    return SimpleNamespace(**{**values, **changes})


ADMITTED = date(2026, 3, 2)
CHILD = date(2012, 6, 1)  # 13 on admission
ADULT = date(2004, 6, 1)  # 21 on admission


def stay(born=CHILD, *, secure=False, community=False, last_cetr=None, last_visit=None):
    return rules.Stay(
        born=born,
        admitted_on=ADMITTED,
        secure=secure,
        community_cetr_before=community,
        last_cetr_on=last_cetr,
        last_visit_on=last_visit,
    )


def test_the_defaults_here_are_the_place_settings_defaults(db):
    from dsr.places.models import PlaceSettings

    defaults = PlaceSettings()
    for name, value in vars(policy()).items():
        assert getattr(defaults, name) == value, name


# --- Post-admission C(E)TR --------------------------------------------------------------


def test_post_admission_cetr_is_due_within_14_days_for_an_under_18():
    due = rules.due_for(policy(), stay(CHILD))
    assert (due.cetr_on, due.cetr_kind) == (date(2026, 3, 16), NextCetr.POST_ADMISSION)


def test_post_admission_cetr_is_due_within_28_days_for_an_adult():
    due = rules.due_for(policy(), stay(ADULT))
    assert (due.cetr_on, due.cetr_kind) == (date(2026, 3, 30), NextCetr.POST_ADMISSION)


def test_no_post_admission_cetr_when_a_community_cetr_preceded_the_admission():
    # The repeat reviews then run from the admission: 3 months for an under-18.
    due = rules.due_for(policy(), stay(CHILD, community=True))
    assert (due.cetr_on, due.cetr_kind) == (date(2026, 6, 2), NextCetr.INPATIENT)
    adult = rules.due_for(policy(), stay(ADULT, community=True))
    assert (adult.cetr_on, adult.cetr_kind) == (date(2026, 9, 2), NextCetr.INPATIENT)


def test_an_18th_birthday_inside_the_14_days_gives_the_adult_28():
    # 18 on 10 March 2026: still 17 on admission, an adult when the 14 days end (16 March).
    born = date(2008, 3, 10)
    assert rules.post_admission_cetr_due(policy(), born, ADMITTED) == date(2026, 3, 30)


def test_an_18th_birthday_the_day_after_the_14_days_keeps_the_child_14():
    born = date(2008, 3, 17)  # 18 on 17 March: still 17 on 16 March
    assert rules.post_admission_cetr_due(policy(), born, ADMITTED) == date(2026, 3, 16)


def test_a_17th_birthday_during_the_stay_changes_nothing():
    born = date(2009, 3, 10)  # 17 on 10 March 2026
    assert rules.post_admission_cetr_due(policy(), born, ADMITTED) == date(2026, 3, 16)
    assert rules.inpatient_cetr_due(policy(), born, ADMITTED, secure=True) == date(2026, 6, 2)


# --- Repeat inpatient C(E)TRs -------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "secure", "due"),
    [
        (CHILD, False, date(2026, 7, 16)),  # 3 months, under 18
        (CHILD, True, date(2026, 7, 16)),  # under 18 in a secure unit: still 3 months
        (ADULT, False, date(2026, 10, 16)),  # 6 months, adult, not secure
        (ADULT, True, date(2027, 4, 16)),  # 12 months, adult, secure
    ],
    ids=["child", "child-secure", "adult", "adult-secure"],
)
def test_repeat_inpatient_cetr_runs_from_the_last_one_by_age_and_setting(born, secure, due):
    last = date(2026, 4, 16)
    next_due = rules.due_for(policy(), stay(born, secure=secure, last_cetr=last))
    assert (next_due.cetr_on, next_due.cetr_kind) == (due, NextCetr.INPATIENT)


def test_an_18th_birthday_before_the_3_months_end_moves_to_the_adult_interval():
    last = date(2026, 4, 16)
    born = date(2008, 6, 1)  # 18 on 1 June, before 16 July
    assert rules.inpatient_cetr_due(policy(), born, last, secure=False) == date(2026, 10, 16)
    assert rules.inpatient_cetr_due(policy(), born, last, secure=True) == date(2027, 4, 16)


def test_an_18th_birthday_after_the_3_months_end_keeps_the_child_interval():
    born = date(2008, 8, 1)  # 18 on 1 August, after 16 July
    last = date(2026, 4, 16)
    assert rules.inpatient_cetr_due(policy(), born, last, secure=False) == date(2026, 7, 16)


def test_three_months_from_the_31st_ends_on_the_last_day_of_a_shorter_month():
    assert rules.inpatient_cetr_due(policy(), CHILD, date(2025, 11, 30), secure=False) == date(
        2026, 2, 28
    )
    assert dates.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


# --- Oversight visits ---------------------------------------------------------------------


def test_oversight_visits_are_due_every_6_weeks_under_18_and_8_weeks_for_adults():
    assert rules.due_for(policy(), stay(CHILD)).visit_on == date(2026, 4, 13)
    assert rules.due_for(policy(), stay(ADULT)).visit_on == date(2026, 4, 27)
    # from the last visit, once there is one
    visited = date(2026, 4, 10)
    assert rules.due_for(policy(), stay(CHILD, last_visit=visited)).visit_on == date(2026, 5, 22)


def test_an_18th_birthday_inside_the_6_weeks_gives_the_adult_8():
    born = date(2008, 4, 1)  # 18 on 1 April, before 13 April
    assert rules.oversight_visit_due(policy(), born, ADMITTED) == date(2026, 4, 27)


# --- Settings, and Red after discharge ---------------------------------------------------


def test_every_timescale_is_the_places_setting():
    local = policy(
        post_admission_cetr_days_child=10,
        inpatient_cetr_months_adult=4,
        oversight_visit_weeks_child=4,
        adult_age=19,
    )
    assert rules.post_admission_cetr_due(local, CHILD, ADMITTED) == date(2026, 3, 12)
    assert rules.inpatient_cetr_due(local, ADULT, ADMITTED, secure=False) == date(2026, 7, 2)
    assert rules.oversight_visit_due(local, CHILD, ADMITTED) == date(2026, 3, 30)
    eighteen = date(2008, 3, 10)  # an adult at 18 by default, still a child where it is 19
    assert rules.post_admission_cetr_due(local, eighteen, ADMITTED) == date(2026, 3, 12)


def test_red_lasts_the_settings_days_after_discharge():
    assert rules.red_until(policy(), date(2026, 5, 1)) == date(2026, 5, 15)
    assert rules.red_until(policy(post_discharge_red_days=28), date(2026, 5, 1)) == date(
        2026, 5, 29
    )
