"""The person page's C(E)TR panel: every review and LAEP meeting, with its recommendations'
progress."""

from __future__ import annotations

from typing import Any

from dsr.core.panels import Panel, register_panel
from dsr.reviews.scoping import CETRS, with_progress

PURPOSE = "record"  # the person page (dsr/register): one audited read covers its panels
SHOWN = 30


def _cetrs(viewer: Any, person: Any) -> dict[str, Any]:
    """Most people have had no C(E)TR: for them one plain query says so. Only a person who
    has some has their recommendations' progress counted (with_progress: the ORM's building
    of its four counts costs more than a plain query's round trip; make bench)."""
    reviews = CETRS.about(viewer, person, purpose=PURPOSE).order_by("-requested_on", "-id")
    if not reviews[:1]:
        return {"cetrs": []}
    return {"cetrs": list(with_progress(reviews)[:SHOWN])}


def register_panels() -> None:
    register_panel(Panel("cetrs", 26, "reviews/panel_cetrs.jinja", _cetrs))
