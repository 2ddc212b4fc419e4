"""The person page's panels from the person record itself (core/panels.py)."""

from __future__ import annotations

from typing import Any

from dsr.core.panels import Panel, register_panel
from dsr.people.choices import CircumstanceArea
from dsr.people.scoping import CIRCUMSTANCES, NETWORK, latest_circumstances

# The page these panels belong to: one audited read of the person covers them all.
PURPOSE = "record"


def _nothing_more(viewer: Any, person: Any) -> dict[str, Any]:
    return {}


def _network(viewer: Any, person: Any) -> dict[str, Any]:
    members = NETWORK.about(viewer, person, purpose=PURPOSE).current()
    return {"members": list(members.select_related("organisation", "user"))}


def _circumstances(viewer: Any, person: Any) -> dict[str, Any]:
    latest = CIRCUMSTANCES.about(viewer, person, purpose=PURPOSE).filter(
        pk__in=latest_circumstances(person.pk)
    )
    by_area = {entry.area: entry for entry in latest}
    return {"standings": [(area, by_area.get(area)) for area in CircumstanceArea]}


def register_panels() -> None:
    register_panel(Panel("safety", 20, "people/panel_safety.jinja", _nothing_more))
    register_panel(Panel("identity", 50, "people/panel_identity.jinja", _nothing_more))
    register_panel(Panel("circumstances", 60, "people/panel_circumstances.jinja", _circumstances))
    register_panel(Panel("network", 65, "people/panel_network.jinja", _network))
