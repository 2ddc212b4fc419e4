"""Why someone is on a tracker meeting's agenda (DOMAIN.md "Monthly multi-agency tracker
meeting"; issue 11, part 2): the rules, as plain functions of what the register holds.

Each rule gives a `Reason` (a code and the sentence the agenda shows) or nothing. The
services (meetings/services.py) read the facts in a bounded number of queries and ask
these for the reasons; the pack and the page show the sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dsr.people.transitions import transitions_for
from dsr.risk.models import RiskRating

Policy = Any  # dsr.places.models.PlaceSettings


@dataclass(frozen=True)
class Window:
    """The meeting's view of time: what happened after `since` and up to `held_on`, and
    what falls due by `due_by` (the meeting's date plus the place's look-ahead)."""

    since: date
    held_on: date
    due_by: date

    def happened(self, day: date | None) -> bool:
        return day is not None and self.since < day <= self.held_on


@dataclass(frozen=True)
class Reason:
    code: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}


# The order the agenda takes people in: the most urgent first (a person's first reason).
ORDER = [
    "red",
    "blue",
    "amber_review",
    "rising_risk",
    "cetr_overdue",
    "cetr_due",
    "admitted",
    "discharged",
    "actions_overdue",
    "recommendations_overdue",
    "previous_actions",
    "not_reached",
    "transition",
    "referred",
    "added",
    "closed",
    "added_by_coordinator",
    "referral",
]
RANK = {code: i for i, code in enumerate(ORDER)}


def _on(day: date) -> str:
    return f"{day:%-d %B %Y}"


def rating(current: str, rated_on: date | None) -> Reason | None:
    since = f" since {_on(rated_on)}" if rated_on else ""
    if current == RiskRating.RED:
        return Reason("red", f"Rated Red{since}")
    if current == RiskRating.BLUE:
        return Reason("blue", f"Rated Blue (in hospital){since}")
    return None


def amber_review(current: str, review_due: date | None, window: Window) -> Reason | None:
    if current != RiskRating.AMBER or review_due is None or review_due > window.due_by:
        return None
    if review_due < window.held_on:
        return Reason("amber_review", f"Amber, review overdue since {_on(review_due)}")
    return Reason("amber_review", f"Amber, review due {_on(review_due)}")


def cetr(what: str, due_on: date | None, window: Window) -> Reason | None:
    """A C(E)TR by policy (`what`: "Community C(E)TR", "Post-admission C(E)TR"...)."""
    if due_on is None or due_on > window.due_by:
        return None
    if due_on < window.held_on:
        return Reason("cetr_overdue", f"{what} overdue since {_on(due_on)}")
    return Reason("cetr_due", f"{what} due {_on(due_on)}")


def overdue(code: str, count: int, one: str, many: str) -> Reason | None:
    if count <= 0:
        return None
    return Reason(code, f"1 {one} overdue" if count == 1 else f"{count} {many} overdue")


def admitted(hospital: str, day: date, window: Window) -> Reason | None:
    if not window.happened(day):
        return None
    return Reason("admitted", f"Admitted to {hospital} on {_on(day)}")


def discharged(day: date | None, window: Window) -> Reason | None:
    if not window.happened(day):
        return None
    assert day is not None
    return Reason("discharged", f"Discharged from hospital on {_on(day)}")


def transition(policy: Policy, born: date, window: Window) -> Reason | None:
    found = transitions_for(policy, born, window.held_on)
    if not found:
        return None
    return Reason("transition", "; ".join(t.label for t in found))


def rising_risk(explanations: list[str]) -> Reason | None:
    if not explanations:
        return None
    return Reason("rising_risk", "Early warning: " + "; ".join(explanations))


def referred(day: date, window: Window) -> Reason | None:
    if not window.happened(day):
        return None
    return Reason("referred", f"Referred on {_on(day)}")


def added(day: date, window: Window) -> Reason | None:
    if not window.happened(day):
        return None
    return Reason("added", f"Added to the register on {_on(day)}")


def closed(day: date | None, why: str, window: Window) -> Reason | None:
    if not window.happened(day):
        return None
    assert day is not None
    return Reason("closed", f"Record closed on {_on(day)}: {why}")


def previous_actions(count: int) -> Reason | None:
    if count <= 0:
        return None
    noun = "action" if count == 1 else "actions"
    return Reason("previous_actions", f"{count} {noun} from the last meeting still open")


def not_reached() -> Reason:
    return Reason("not_reached", "On the last meeting's agenda, but not reached")


def referral(received_on: date, status: str) -> Reason:
    return Reason("referral", f"Referral received {_on(received_on)}: {status.lower()}")


def by_coordinator(why: str) -> Reason:
    return Reason("added_by_coordinator", f"Added by the coordinator: {why}")


def rank(reasons: list[dict[str, str]]) -> int:
    """Where an item stands on the agenda: by its most urgent reason."""
    return min((RANK.get(r["code"], len(ORDER)) for r in reasons), default=len(ORDER))
