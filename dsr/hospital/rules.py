"""When an inpatient's next C(E)TR and oversight visit are due, and how long a discharge
keeps them Red: pure functions of the place's policy (PlaceSettings) and the facts.

DOMAIN.md "C(E)TRs" (the defaults are settings):
- post-admission C(E)TR, when no community C(E)TR preceded the admission: within 14 days
  for under-18s, 28 for adults;
- inpatient (repeat) C(E)TRs: every 3 months for under-18s, 6 for adults, 12 for adults in
  secure settings, from the last one held in the stay;
- commissioner oversight visits: every 6 weeks for under-18s, 8 for adults;
- on discharge, Red for at least 14 days.

A birthday during a stay (ADR 0023): the under-18 timescale applies while the person is
still under 18 on the day it ends; otherwise the adult one. So nobody goes longer than the
under-18 timescale while a child, nor longer than the adult one once an adult.
Deadlines are calendar dates ("within 14 days"): moving one to the next working day would
break the policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dsr.core import dates
from dsr.hospital.choices import NextCetr

Policy = Any  # dsr.places.models.PlaceSettings (kept loose: rules are pure)


def _by_age(policy: Policy, born: date, child_due: date, adult_due: Callable[[], date]) -> date:
    """The under-18 deadline if the person is still under 18 when it falls, else the adult."""
    if dates.age_on(born, child_due) < policy.adult_age:
        return child_due
    return adult_due()


def post_admission_cetr_due(policy: Policy, born: date, admitted_on: date) -> date:
    return _by_age(
        policy,
        born,
        admitted_on + timedelta(days=policy.post_admission_cetr_days_child),
        lambda: admitted_on + timedelta(days=policy.post_admission_cetr_days_adult),
    )


def inpatient_cetr_due(policy: Policy, born: date, since: date, *, secure: bool) -> date:
    adult_months = (
        policy.inpatient_cetr_months_adult_secure if secure else policy.inpatient_cetr_months_adult
    )
    return _by_age(
        policy,
        born,
        dates.add_months(since, policy.inpatient_cetr_months_child),
        lambda: dates.add_months(since, adult_months),
    )


def oversight_visit_due(policy: Policy, born: date, since: date) -> date:
    return _by_age(
        policy,
        born,
        since + timedelta(weeks=policy.oversight_visit_weeks_child),
        lambda: since + timedelta(weeks=policy.oversight_visit_weeks_adult),
    )


@dataclass(frozen=True)
class Stay:
    """What an open episode's due dates depend on."""

    born: date
    admitted_on: date
    secure: bool
    community_cetr_before: bool
    last_cetr_on: date | None  # the last post-admission or inpatient C(E)TR held in the stay
    last_visit_on: date | None


@dataclass(frozen=True)
class Due:
    cetr_on: date
    cetr_kind: NextCetr
    visit_on: date


def due_for(policy: Policy, stay: Stay) -> Due:
    """The next C(E)TR (and which) and the next oversight visit of an open episode."""
    if stay.last_cetr_on is not None:
        cetr = inpatient_cetr_due(policy, stay.born, stay.last_cetr_on, secure=stay.secure)
        kind = NextCetr.INPATIENT
    elif stay.community_cetr_before:
        # A community C(E)TR preceded the admission: no post-admission one is needed, and
        # the repeat reviews run from the admission.
        cetr = inpatient_cetr_due(policy, stay.born, stay.admitted_on, secure=stay.secure)
        kind = NextCetr.INPATIENT
    else:
        cetr = post_admission_cetr_due(policy, stay.born, stay.admitted_on)
        kind = NextCetr.POST_ADMISSION
    visit = oversight_visit_due(policy, stay.born, stay.last_visit_on or stay.admitted_on)
    return Due(cetr_on=cetr, cetr_kind=kind, visit_on=visit)


def red_until(policy: Policy, discharged_on: date) -> date:
    """The first day after a discharge on which a rating other than Red is allowed."""
    return discharged_on + timedelta(days=policy.post_discharge_red_days)
