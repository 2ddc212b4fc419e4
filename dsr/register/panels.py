"""The person page's transition panel: approaching 18 or 25, and the plan for it."""

from __future__ import annotations

from typing import Any

from dsr.actions.scoping import ACTIONS
from dsr.core import dates
from dsr.core.panels import Panel, register_panel
from dsr.people.transitions import transitions_for

PURPOSE = "record"  # the person page: one audited read covers its panels


def transitions_and_plans(viewer: Any, person: Any, *, purpose: str) -> dict[str, Any]:
    """The transitions the person is approaching, each with its open plan action, if any.
    No query unless one is approaching."""
    due = transitions_for(person.place.settings, person.date_of_birth, dates.today())
    if not due or not person.is_open:
        return {"transitions": []}
    plans = {
        a.rule_key: a
        for a in ACTIONS.about(viewer, person, purpose=purpose)
        .open()
        .filter(rule_key__in=[t.key for t in due])
        .select_related("owner_user", "owner_organisation")
    }
    return {"transitions": [(t, plans.get(t.key)) for t in due]}


def register_panels() -> None:
    register_panel(
        Panel(
            "transition",
            14,
            "register/panel_transition.jinja",
            lambda viewer, person: transitions_and_plans(viewer, person, purpose=PURPOSE),
        )
    )
