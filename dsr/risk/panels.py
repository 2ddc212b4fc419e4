"""The person page's risk panels: the current rating, its history, significant events."""

from __future__ import annotations

from typing import Any

from dsr.actions.models import ActionSource
from dsr.actions.panels import person_actions
from dsr.actions.scoping import ACTIONS
from dsr.core.panels import Panel, register_panel
from dsr.risk.scoping import EVENTS, RATINGS, SIGNALS, with_factors
from dsr.risk.services import prompts_no_longer_applying

PURPOSE = "record"  # the person page (dsr/register): one audited read covers its panels
HISTORY = 50
EVENTS_SHOWN = 20


def stale_prompts(viewer: Any, person: Any, *, purpose: str) -> list[Any]:
    """The person's open rating prompts their current rating no longer calls for."""
    prompts = (
        ACTIONS.about(viewer, person, purpose=purpose)
        .open()
        .filter(source=ActionSource.RATING)
        .exclude(rule_key="")
        .order_by("due_on", "id")
    )
    return prompts_no_longer_applying(person, prompts)


def _ratings(viewer: Any, person: Any) -> list[Any]:
    """The rating history, newest first: read once for the current rating and the history."""
    return viewer.keep(  # type: ignore[no-any-return]
        ("ratings", person.pk),
        lambda: list(
            with_factors(
                list(
                    RATINGS.about(viewer, person, purpose=PURPOSE).select_related(
                        "decided_by", "review"
                    )[:HISTORY]
                )
            )
        ),
    )


def _current(viewer: Any, person: Any) -> dict[str, Any]:
    ratings = _ratings(viewer, person)
    signals = SIGNALS.about(viewer, person, purpose=PURPOSE).open()
    # The open prompts among the actions the actions panel reads anyway (open first).
    prompts = sorted(
        (a for a in person_actions(viewer, person) if a.status == "open"),
        key=lambda a: (a.due_on, a.pk),
    )
    return {
        "latest": ratings[0] if ratings else None,
        "signals": list(signals),
        "stale": prompts_no_longer_applying(person, prompts) if person.is_open else [],
    }


def _history(viewer: Any, person: Any) -> dict[str, Any]:
    return {"ratings": _ratings(viewer, person)}


def _events(viewer: Any, person: Any) -> dict[str, Any]:
    return {"events": list(EVENTS.about(viewer, person, purpose=PURPOSE)[:EVENTS_SHOWN])}


def register_panels() -> None:
    register_panel(Panel("rating", 10, "risk/panel_rating.jinja", _current))
    register_panel(Panel("rating_history", 70, "risk/panel_history.jinja", _history))
    register_panel(Panel("events", 80, "risk/panel_events.jinja", _events))
