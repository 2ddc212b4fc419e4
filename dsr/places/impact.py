"""What changing a place setting affects, said before it is saved (ADR 0015).

A registry of estimators keyed by setting name. Each app registers the estimators for the
settings its rules read, in its `AppConfig.ready()` (risk: review intervals, keyworker
eligibility, early warning; people: the register's ages; places: self-referral), so a
setting added by a later step gets its estimate from the app that uses it, without a
change here. An estimator returns sentences; it may count people (a number, never a
person: the place admin sees no care data) in a bounded number of queries.

A setting with no estimator is described by the rule every change follows: it applies to
what is recorded from the moment it is saved, and dates already set stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dsr.places.models import Place

FROM_NOW_ON = (
    "Applies to what is recorded from now on. Dates and decisions already recorded stay as "
    "they are."
)


@dataclass(frozen=True)
class Change:
    """One setting about to change in a place."""

    place: Place
    name: str
    old: Any
    new: Any


Estimator = Callable[[Change], list[str]]
ESTIMATORS: dict[str, list[Estimator]] = {}


def register_impact(*names: str, estimator: Estimator) -> None:
    """`estimator` says what a change to any of `names` affects (idempotent)."""
    for name in names:
        found = ESTIMATORS.setdefault(name, [])
        if estimator not in found:
            found.append(estimator)


def impacts_of(place: Place, changes: dict[str, list[Any]]) -> dict[str, list[str]]:
    """{setting: sentences} for each change ({name: [old, new]})."""
    said: dict[str, list[str]] = {}
    for name, (old, new) in changes.items():
        change = Change(place=place, name=name, old=old, new=new)
        sentences = [s for estimate in ESTIMATORS.get(name, []) for s in estimate(change)]
        said[name] = sentences or [FROM_NOW_ON]
    return said


def people(count: int) -> str:
    """'1 person', '32 people'."""
    return f"{count} {'person' if count == 1 else 'people'}"


def self_referral(change: Change) -> list[str]:
    if change.new:
        return [
            "From now on parents and carers can refer without a professional. "
            "Referrals already made are not changed."
        ]
    return [
        "From now on parents and carers can no longer refer without a professional. "
        "Referrals they have already made are kept and triaged as usual."
    ]


register_impact("parent_self_referral", estimator=self_referral)
