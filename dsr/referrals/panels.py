"""The person page's referrals panel: the referrals that brought them onto the register,
and what a transfer carried from another place (for the team that takes referrals in)."""

from __future__ import annotations

from typing import Any

from dsr.core.access import Permission
from dsr.core.panels import Panel, register_panel
from dsr.referrals.scoping import REFERRALS

PURPOSE = "record"  # the person page (dsr/register): one audited read covers its panels


def _referrals(viewer: Any, person: Any) -> dict[str, Any]:
    referrals = list(REFERRALS.about(viewer, person, purpose=PURPOSE).order_by("-received_on")[:10])
    return {
        "referrals": referrals,
        "transfer": next((r for r in referrals if r.source == "transfer"), None),
    }


def register_panels() -> None:
    register_panel(
        Panel(
            "referrals",
            85,
            "referrals/panel_referrals.jinja",
            _referrals,
            permission=Permission.VIEW_REFERRALS,
        )
    )
