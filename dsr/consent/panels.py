"""The person page's consent panel: where consent stands, and when it falls due."""

from __future__ import annotations

from typing import Any

from dsr.consent.scoping import CONSENTS, WITHDRAWALS
from dsr.core.panels import Panel, register_panel

PURPOSE = "record"  # the person page (dsr/register): one audited read covers its panels


def _consent(viewer: Any, person: Any) -> dict[str, Any]:
    latest = list(
        CONSENTS.about(viewer, person, purpose=PURPOSE).prefetch_related("share_with")[:1]
    )
    withdrawn = (
        list(WITHDRAWALS.about(viewer, person, purpose=PURPOSE)[:1])
        if person.consent_withdrawn
        else []
    )
    return {
        "consent": latest[0] if latest else None,
        "withdrawal": withdrawn[0] if withdrawn else None,
    }


def register_panels() -> None:
    register_panel(Panel("consent", 25, "consent/panel_consent.jinja", _consent))
