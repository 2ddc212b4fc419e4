"""The person page's keyworker panel: who the keyworker is, eligibility, recent contacts."""

from __future__ import annotations

from typing import Any

from dsr.core.panels import Panel, register_panel
from dsr.keywork.scoping import ALLOCATIONS, CONTACTS
from dsr.keywork.services import eligibility

PURPOSE = "record"  # the person page (dsr/register): one audited read covers its panels
RECENT = 5


def _keywork(viewer: Any, person: Any) -> dict[str, Any]:
    allocations = list(ALLOCATIONS.about(viewer, person, purpose=PURPOSE)[:10])
    current = next((a for a in allocations if a.ended_on is None), None)
    return {
        "current": current,
        "previous": [a for a in allocations if a.ended_on is not None],
        "contacts": list(CONTACTS.about(viewer, person, purpose=PURPOSE)[:RECENT]),
        "not_eligible": eligibility(person),
    }


def register_panels() -> None:
    register_panel(Panel("keywork", 28, "keywork/panel_keywork.jinja", _keywork))
