"""The person page's risk panels: the current rating, its history, significant events."""

from __future__ import annotations

from typing import Any

from dsr.core.panels import Panel, register_panel
from dsr.risk.scoping import EVENTS, RATINGS, SIGNALS

PURPOSE = "record"  # the person page (dsr/register): one audited read covers its panels
HISTORY = 50
EVENTS_SHOWN = 20


def _current(viewer: Any, person: Any) -> dict[str, Any]:
    latest = RATINGS.about(viewer, person, purpose=PURPOSE).select_related("decided_by")[:1]
    signals = SIGNALS.about(viewer, person, purpose=PURPOSE).open()
    return {"latest": next(iter(latest), None), "signals": list(signals)}


def _history(viewer: Any, person: Any) -> dict[str, Any]:
    ratings = (
        RATINGS.about(viewer, person, purpose=PURPOSE)
        .select_related("decided_by", "review")
        .prefetch_related("factors")[:HISTORY]
    )
    return {"ratings": list(ratings)}


def _events(viewer: Any, person: Any) -> dict[str, Any]:
    return {"events": list(EVENTS.about(viewer, person, purpose=PURPOSE)[:EVENTS_SHOWN])}


def register_panels() -> None:
    register_panel(Panel("rating", 10, "risk/panel_rating.jinja", _current))
    register_panel(Panel("rating_history", 70, "risk/panel_history.jinja", _history))
    register_panel(Panel("events", 80, "risk/panel_events.jinja", _events))
