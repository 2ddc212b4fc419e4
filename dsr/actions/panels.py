"""The person page's actions panel: open actions, and those finished."""

from __future__ import annotations

from typing import Any

from django.db.models import Case, Value, When

from dsr.actions.models import ActionStatus
from dsr.actions.scoping import ACTIONS
from dsr.core.access import Permission, allows
from dsr.core.panels import Panel, register_panel

OPEN_FIRST = Case(When(status=ActionStatus.OPEN, then=Value(0)), default=Value(1))
PURPOSE = "record"  # the person page (dsr/register): one audited read covers its panels
SHOWN = 50


def person_actions(viewer: Any, person: Any) -> list[Any]:
    """The person page's actions, open first: read once for the panels that show them."""
    return viewer.keep(  # type: ignore[no-any-return]
        ("actions", person.pk),
        lambda: list(
            ACTIONS.about(viewer, person, purpose=PURPOSE)
            .select_related("owner_user", "owner_organisation")
            .order_by(OPEN_FIRST, "due_on", "id")[:SHOWN]
        ),
    )


def _actions(viewer: Any, person: Any) -> dict[str, Any]:
    actions = person_actions(viewer, person)
    for action in actions:
        # Offer the update page only where the object rule allows it (a partner: their own).
        action.updatable = allows(viewer.membership, Permission.UPDATE_ACTION, action)
    return {
        "open": [a for a in actions if a.status == ActionStatus.OPEN],
        "finished": [a for a in actions if a.status != ActionStatus.OPEN],
    }


def register_panels() -> None:
    register_panel(Panel("actions", 30, "actions/panel_actions.jinja", _actions))
