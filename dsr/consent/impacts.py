"""What changing consent's setting affects (places/impact.py, ADR 0019): each consent's
re-confirmation date is set when it is recorded, so a new interval applies to consent
recorded from now on."""

from __future__ import annotations

from dsr.people.choices import ConsentState
from dsr.people.scoping import count_open
from dsr.places.impact import Change, people, register_impact


def reconfirm_interval(change: Change) -> list[str]:
    given = count_open(change.place.pk, consent_state=ConsentState.GIVEN)
    return [
        f"Applies to consent recorded or re-confirmed from now on: it will be due for "
        f"re-confirmation after {change.new} months instead of {change.old}.",
        f"The {people(given)} whose consent is recorded now keep the re-confirmation dates "
        "they have.",
    ]


def register_impacts() -> None:
    register_impact("consent_reconfirm_months", estimator=reconfirm_interval)
