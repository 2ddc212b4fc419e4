"""What changing the settings risk's rules read affects (places/impact.py, ADR 0015).

Review intervals and prompts are set when a rating or review is recorded: a new interval
applies from the next one, and due dates already set stay as they are. What is worked out
when a page is shown (a review "due soon") changes at once.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q

from dsr.core import dates
from dsr.people.scoping import count_open
from dsr.places.impact import Change, people, register_impact
from dsr.risk.models import RiskRating
from dsr.risk.rules import REVIEW_INTERVAL_FIELD

BY_FIELD = {name: RiskRating(rating) for rating, name in REVIEW_INTERVAL_FIELD.items()}


def review_interval(change: Change) -> list[str]:
    rating = BY_FIELD[change.name]
    rated = count_open(change.place.pk, current_rating=rating.value)
    days = int(change.new) - int(change.old)
    way = "sooner" if days < 0 else "later"
    if not rated:
        return [
            f"Nobody is rated {rating.label} now. The next {rating.label} rating's review "
            f"will be due {abs(days)} days {way} than today."
        ]
    return [
        f"{people(rated)} rated {rating.label}: each one's next review would be due "
        f"{abs(days)} days {way}, counted from their next rating or review.",
        "Review dates already set stay as they are.",
    ]


def due_soon(change: Change) -> list[str]:
    today = dates.today()

    def within(days: int) -> int:
        return count_open(
            change.place.pk, review_due__gte=today, review_due__lte=today + timedelta(days=days)
        )

    return [
        f"{people(within(int(change.new)))} would have a review due soon, instead of "
        f"{within(int(change.old))} now. This changes at once: nothing is stored."
    ]


def _eligible(ratings: str, max_age: int) -> Q:
    born_after = dates.add_years(dates.today(), -max_age)  # under max_age today
    return Q(current_rating__in=list(ratings)) & Q(date_of_birth__gt=born_after)


def keyworker_eligibility(change: Change) -> list[str]:
    policy = change.place.settings
    old = _eligible(policy.keyworker_ratings, policy.keyworker_max_age)
    ratings = change.new if change.name == "keyworker_ratings" else policy.keyworker_ratings
    age = change.new if change.name == "keyworker_max_age" else policy.keyworker_max_age
    new = _eligible(ratings, age)
    gained = count_open(change.place.pk, new & ~old)
    lost = count_open(change.place.pk, old & ~new)
    return [
        f"By their rating and age today, {people(gained)} would become eligible for a "
        f"keyworker and {people(lost)} would no longer be.",
        "Eligibility is checked when someone is next rated: keyworker referrals already "
        "made stay as they are.",
    ]


def early_warning(change: Change) -> list[str]:
    return [
        "Checked each time a significant event is logged, from now on. Early-warning flags "
        "already raised stay until a new rating clears them."
    ]


def register_impacts() -> None:
    register_impact(*BY_FIELD, estimator=review_interval)
    register_impact("review_due_soon_days", estimator=due_soon)
    register_impact("keyworker_ratings", "keyworker_max_age", estimator=keyworker_eligibility)
    register_impact(
        "signal_window_days",
        "signal_event_threshold",
        "signal_crisis_when_green",
        estimator=early_warning,
    )
