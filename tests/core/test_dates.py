from datetime import date

import time_machine

from dsr.core import dates


def test_add_working_days_skips_weekends_and_bank_holidays():
    # Friday 19 December 2025 + 5 working days: Mon 22, Tue 23, Wed 24, then
    # Christmas Day, Boxing Day and the weekend are skipped: Mon 29, Tue 30.
    assert dates.add_working_days(date(2025, 12, 19), 5) == date(2025, 12, 30)


def test_age_counts_whole_years_and_leap_day_birthdays():
    assert dates.age_on(date(2012, 2, 29), date(2025, 2, 28)) == 12
    assert dates.age_on(date(2012, 2, 29), date(2025, 3, 1)) == 13
    assert dates.add_years(date(2012, 2, 29), 1) == date(2013, 2, 28)


@time_machine.travel("2026-06-30 23:30:00+00:00")
def test_today_is_the_date_in_london():
    assert dates.today() == date(2026, 7, 1)


def test_today_in_winter_is_the_date_in_greenwich():
    with time_machine.travel("2026-12-31 23:30:00+00:00", tick=False):
        assert dates.today() == date(2026, 12, 31)
    with time_machine.travel("2027-01-01 00:00:00+00:00", tick=False):
        assert dates.today() == date(2027, 1, 1)


def test_working_days_between_skips_weekends_and_bank_holidays():
    # Received Friday 19 December 2025: Monday 22nd is 1 working day on; Christmas Day,
    # Boxing Day and the weekend do not count, so Monday 29th is only the 4th.
    assert dates.working_days_between(date(2025, 12, 19), date(2025, 12, 20)) == 0
    assert dates.working_days_between(date(2025, 12, 19), date(2025, 12, 22)) == 1
    assert dates.working_days_between(date(2025, 12, 19), date(2025, 12, 29)) == 4
    assert dates.working_days_between(date(2025, 12, 19), date(2025, 12, 19)) == 0
    assert dates.working_days_between(date(2025, 12, 19), date(2025, 12, 1)) == 0
    # and it agrees with adding working days
    assert (
        dates.working_days_between(
            date(2025, 12, 19), dates.add_working_days(date(2025, 12, 19), 5)
        )
        == 5
    )


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert dates.add_months(date(2026, 1, 15), 12) == date(2027, 1, 15)
    assert dates.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert dates.add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert dates.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert dates.add_months(date(2026, 12, 1), 6) == date(2027, 6, 1)
