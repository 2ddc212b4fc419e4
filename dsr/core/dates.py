"""The one date helper: today in Europe/London, ages, and working days."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings


def today() -> date:
    """Today in the register's time zone (settings.TIME_ZONE: Europe/London, never switched
    per user). Asked for twice a row on every list: read straight from the clock rather
    than through Django's per-thread current time zone (make bench)."""
    return datetime.now(_zone()).date()


@lru_cache(maxsize=1)
def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def age_on(date_of_birth: date, on: date) -> int:
    """Whole years; a 29 February birthday counts on 28 February in other years."""
    years = on.year - date_of_birth.year
    if (on.month, on.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    """The same day `months` later; a day the month lacks becomes its last (31 January +
    1 month is 28 or 29 February)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


# Both are pure (the bank holidays are fixed), and a referral queue asks them twice a row,
# for the same few weeks of dates page after page: kept.
@lru_cache(maxsize=4096)
def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (England & Wales bank holidays skipped)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


@lru_cache(maxsize=4096)
def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when `end` is not later): a
    referral received on Friday is 1 working day old on Monday, and still 0 on Saturday."""
    count = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def next_working_day_on_or_after(day: date) -> date:
    """A due date never falls on a weekend or a bank holiday."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
