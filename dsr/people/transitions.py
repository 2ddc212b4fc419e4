"""People approaching 18 (adult services, the adult register) and 25 (the end of the
children's and young people's register): DOMAIN.md "Other things the service does".

Pure functions of the place's policy: `adult_age` (18), `register_max_age` (25) and
`transition_window_months` (6). A person is flagged from the window's start until the
birthday itself. The same bounds select them in SQL (`born_between`), so the register, the
person page and My work always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q

from dsr.core import dates

Policy = Any  # dsr.places.models.PlaceSettings

ADULT = "transition_18"
LEAVING = "transition_25"


@dataclass(frozen=True)
class Transition:
    key: str  # also the rule key of its transition plan action
    age: int
    birthday: date
    short: str  # the register list's flag
    plan: str  # the transition plan action

    @property
    def label(self) -> str:
        return f"{self.short} on {self.birthday:%-d %B %Y}"


def _ages(policy: Policy) -> list[tuple[str, int, str, str]]:
    return [
        (
            ADULT,
            policy.adult_age,
            f"Turns {policy.adult_age}",
            "Plan the move to adult services and the adult register",
        ),
        (
            LEAVING,
            policy.register_max_age,
            f"Turns {policy.register_max_age}",
            "Plan for leaving the children's and young people's register",
        ),
    ]


def born_between(policy: Policy, age: int, today: date) -> tuple[date, date]:
    """The dates of birth of everyone whose `age`th birthday falls in the window."""
    window_end = dates.add_months(today, policy.transition_window_months)
    return dates.add_years(today, -age), dates.add_years(window_end, -age)


Window = tuple[str, int, str, str, date, date]  # key, age, short, plan, born from, born to


def windows(policy: Policy, today: date) -> list[Window]:
    """Each transition with the dates of birth it flags today: once a page, not once a row."""
    return [(*age, *born_between(policy, age[1], today)) for age in _ages(policy)]


def flagged(windows: list[Window], born: date) -> list[Transition]:
    return [
        Transition(key, age, dates.add_years(born, age), short, plan)
        for key, age, short, plan, first, last in windows
        if first <= born <= last
    ]


def transitions_for(policy: Policy, born: date, today: date) -> list[Transition]:
    return flagged(windows(policy, today), born)


def approaching(policy: Policy, today: date, *, born: str = "date_of_birth") -> Q:
    """A filter for the people `transitions_for` flags."""
    rule = Q()
    for _key, age, _short, _plan in _ages(policy):
        first, last = born_between(policy, age, today)
        rule |= Q(**{f"{born}__gte": first, f"{born}__lte": last})
    return rule
