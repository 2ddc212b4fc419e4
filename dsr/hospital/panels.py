"""The person page's hospital panel: the current stay, earlier stays, oversight visits."""

from __future__ import annotations

from typing import Any

from dsr.core import dates
from dsr.core.panels import Panel, register_panel
from dsr.hospital.scoping import ADMISSIONS, VISITS

PURPOSE = "record"  # the person page (dsr/register): one audited read covers its panels
STAYS = 20
VISITS_SHOWN = 10


def _hospital(viewer: Any, person: Any) -> dict[str, Any]:
    stays = list(ADMISSIONS.about(viewer, person, purpose=PURPOSE)[:STAYS])
    current = next((s for s in stays if s.is_current), None)
    # The visits of the current stay (none is read for a person who is not in hospital).
    visits = (
        list(VISITS.about(viewer, person, purpose=PURPOSE, admission=current)[:VISITS_SHOWN])
        if current is not None
        else []
    )
    latest = stays[0] if stays else None
    red_until = None
    if latest is not None and not latest.is_current:
        until = latest.red_until(person.place.settings)
        if until is not None and dates.today() < until:
            red_until = until  # the period after discharge is still running
    return {
        "current": current,
        "earlier": [s for s in stays if not s.is_current],
        "visits": visits,
        "latest": latest,
        "red_until": red_until,
    }


def register_panels() -> None:
    register_panel(Panel("hospital", 12, "hospital/panel_hospital.jinja", _hospital))
