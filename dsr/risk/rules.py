"""What a rating sets in motion, and when events become an early-warning signal.

Pure functions of the place's policy (PlaceSettings) and the facts: no database, no clock.
Later steps extend the lists (RATING_RULES, SIGNAL_RULES) rather than rewriting them: e.g.
Blue on admission and Red for N days after discharge arrive with admissions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dsr.core import dates
from dsr.risk.models import CRISIS_EVENTS, EventKind, RatingContext, RiskRating

Policy = Any  # dsr.places.models.PlaceSettings (kept loose: rules are pure)

REVIEW_INTERVAL_FIELD = {
    RiskRating.RED: "review_days_red",
    RiskRating.AMBER: "review_days_amber",
    RiskRating.GREEN: "review_days_green",
    RiskRating.BLUE: "review_days_blue",
}


def review_due(policy: Policy, rating: str, decided_on: date) -> date:
    """DOMAIN.md: review interval by rating (a setting); a due date never falls on a day off."""
    interval = getattr(policy, REVIEW_INTERVAL_FIELD[RiskRating(rating)])
    return dates.next_working_day_on_or_after(decided_on + timedelta(days=interval))


def keyworker_eligible(policy: Policy, rating: str, age: int) -> bool:
    """DOMAIN.md "Keyworker": aged 0-25 and rated Red, Amber or Blue (settings)."""
    return rating in policy.keyworker_ratings and age < policy.keyworker_max_age


@dataclass(frozen=True)
class Prompt:
    """An action a rating calls for. `key` stops a rule opening the same action twice."""

    key: str
    description: str
    due_on: date


@dataclass(frozen=True)
class RatingFacts:
    rating: str
    decided_on: date
    age: int
    context: str = ""  # where it was decided (RatingContext)


RatingRule = Callable[[Policy, RatingFacts], Sequence[Prompt]]


def _prompt_due(policy: Policy, facts: RatingFacts) -> date:
    return dates.add_working_days(facts.decided_on, policy.prompt_working_days)


# The key of the task a Red rating opens; a held community C(E)TR completes it (dsr.reviews
# links the review to the task itself).
COMMUNITY_CETR = "community_cetr"


def red_requires_community_cetr(policy: Policy, facts: RatingFacts) -> list[Prompt]:
    if facts.rating != RiskRating.RED:
        return []
    return [
        Prompt(
            COMMUNITY_CETR,
            "Hold a community C(E)TR (rated Red)",
            facts.decided_on + timedelta(days=policy.community_cetr_days),
        )
    ]


AMBER_MEETING = "amber_meeting"


def amber_requires_meeting_or_cetr(policy: Policy, facts: RatingFacts) -> list[Prompt]:
    # Decided at the multi-agency tracker meeting: that meeting is the one it calls for.
    if facts.rating != RiskRating.AMBER or facts.context == RatingContext.TRACKER_MEETING:
        return []
    return [
        Prompt(
            AMBER_MEETING,
            "Arrange a multi-agency meeting or a C(E)TR (rated Amber)",
            _prompt_due(policy, facts),
        )
    ]


def eligible_for_keyworker(policy: Policy, facts: RatingFacts) -> list[Prompt]:
    if not keyworker_eligible(policy, facts.rating, facts.age):
        return []
    return [
        Prompt(
            "keyworker_referral",
            "Refer for a dynamic support keyworker (eligible by age and rating)",
            _prompt_due(policy, facts),
        )
    ]


def green_names_cetr_partners(policy: Policy, facts: RatingFacts) -> list[Prompt]:
    if facts.rating != RiskRating.GREEN:
        return []
    return [
        Prompt(
            "green_partners",
            "Name the partners who would join a C(E)TR if one were needed (rated Green)",
            _prompt_due(policy, facts),
        )
    ]


RATING_RULES: list[RatingRule] = [
    red_requires_community_cetr,
    amber_requires_meeting_or_cetr,
    eligible_for_keyworker,
    green_names_cetr_partners,
]


def prompts_for(policy: Policy, facts: RatingFacts) -> list[Prompt]:
    return [prompt for rule in RATING_RULES for prompt in rule(policy, facts)]


def no_longer_apply(policy: Policy, facts: RatingFacts, open_keys: Iterable[str]) -> set[str]:
    """Of the rule keys of a person's open prompts, those the current rating no longer calls
    for (a Red rating's C(E)TR task once they are rated Green). They are offered for closing
    with a reason, never closed silently (issue 10, part 7)."""
    wanted = {prompt.key for prompt in prompts_for(policy, facts)}
    return {key for key in open_keys if key and key not in wanted}


# --- Early warning -------------------------------------------------------------------


@dataclass(frozen=True)
class EventFact:
    kind: str
    occurred_on: date


@dataclass(frozen=True)
class Finding:
    rule: str
    explanation: str


SignalRule = Callable[[Policy, str, Sequence[EventFact], date], Finding | None]


def _label(event: EventFact) -> str:
    return f"{EventKind(event.kind).label} on {event.occurred_on:%-d %b %Y}"


def crisis_while_green(
    policy: Policy, rating: str, events: Sequence[EventFact], today: date
) -> Finding | None:
    if not policy.signal_crisis_when_green or rating != RiskRating.GREEN:
        return None
    window_start = today - timedelta(days=policy.signal_window_days)
    crises = [e for e in events if e.kind in CRISIS_EVENTS and e.occurred_on >= window_start]
    if not crises:
        return None
    return Finding(
        "crisis_while_green",
        f"Crisis event while rated Green: {'; '.join(_label(e) for e in crises)}",
    )


def run_of_events(
    policy: Policy, rating: str, events: Sequence[EventFact], today: date
) -> Finding | None:
    window_start = today - timedelta(days=policy.signal_window_days)
    recent = [e for e in events if e.occurred_on >= window_start]
    if len(recent) < policy.signal_event_threshold:
        return None
    return Finding(
        "run_of_events",
        f"{len(recent)} significant events in {policy.signal_window_days} days: "
        + "; ".join(_label(e) for e in sorted(recent, key=lambda e: e.occurred_on)),
    )


SIGNAL_RULES: list[SignalRule] = [crisis_while_green, run_of_events]


def findings_for(
    policy: Policy, rating: str, events: Sequence[EventFact], today: date
) -> list[Finding]:
    found = (rule(policy, rating, events, today) for rule in SIGNAL_RULES)
    return [finding for finding in found if finding is not None]
