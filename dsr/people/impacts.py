"""What changing the register's ages affects (places/impact.py, ADR 0015)."""

from __future__ import annotations

from django.db.models import Q

from dsr.core import dates
from dsr.people.scoping import count_open
from dsr.places.impact import Change, people, register_impact


def _ages(change: Change) -> tuple[int, int]:
    policy = change.place.settings
    low = change.new if change.name == "register_min_age" else policy.register_min_age
    high = change.new if change.name == "register_max_age" else policy.register_max_age
    return low, high


def register_ages(change: Change) -> list[str]:
    """People now outside the register's ages stay on it: nobody is closed automatically."""
    low, high = _ages(change)
    today = dates.today()
    # Aged below `low` (born after the low-th birthday's date) or `high` or over.
    outside = count_open(
        change.place.pk,
        Q(date_of_birth__gt=dates.add_years(today, -low))
        | Q(date_of_birth__lte=dates.add_years(today, -high)),
    )
    said = [f"From now on people can be added aged {low} up to their {high}th birthday."]
    if outside:
        said.append(
            f"{people(outside)} on the register would be outside these ages. Their records "
            "are not closed automatically: coordinators close them when they leave."
        )
    else:
        said.append("Nobody on the register is outside these ages.")
    return said


def register_impacts() -> None:
    register_impact("register_min_age", "register_max_age", estimator=register_ages)
