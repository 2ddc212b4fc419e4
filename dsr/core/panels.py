"""The person page is composed of panels that each app contributes (ADR 0011).

A panel is a template and a loader: `load(viewer, person)` reads what the panel shows
through its app's door and returns the template's context. Apps register their panels in
`AppConfig.ready()`; the register's person page (dsr/register) shows every panel the
viewer's role may see, in `order`. A later step adds a panel without editing another app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dsr.core.access import Permission, role_has


@dataclass(frozen=True)
class Panel:
    key: str
    order: int
    template: str
    load: Callable[[Any, Any], dict[str, Any]]  # (viewer, person) -> template context
    permission: Permission = Permission.VIEW_PERSON


PANELS: list[Panel] = []


def register_panel(panel: Panel) -> None:
    if any(p.key == panel.key for p in PANELS):
        return
    PANELS.append(panel)
    PANELS.sort(key=lambda p: p.order)


def panels_for(viewer: Any, person: Any) -> list[tuple[Panel, dict[str, Any]]]:
    """Each panel the viewer's role may see, loaded for the person."""
    return [
        (panel, panel.load(viewer, person))
        for panel in PANELS
        if role_has(viewer.membership.role, panel.permission)
    ]
