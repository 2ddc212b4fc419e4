"""The person page's C(E)TR panel: every review and LAEP meeting, with its recommendations'
progress."""

from __future__ import annotations

from typing import Any

from dsr.core.panels import Panel, register_panel
from dsr.reviews.scoping import CETRS, with_progress

PURPOSE = "record"  # the person page (dsr/register): one audited read covers its panels
SHOWN = 30


def _cetrs(viewer: Any, person: Any) -> dict[str, Any]:
    reviews = with_progress(CETRS.about(viewer, person, purpose=PURPOSE))
    return {"cetrs": list(reviews.order_by("-requested_on", "-id")[:SHOWN])}


def register_panels() -> None:
    register_panel(Panel("cetrs", 26, "reviews/panel_cetrs.jinja", _cetrs))
