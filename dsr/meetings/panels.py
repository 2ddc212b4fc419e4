"""The person page's tracker-meeting panel: the meetings that discussed them and what each
decided, and (for a coordinator) adding them to the agenda of the meeting being prepared."""

from __future__ import annotations

from typing import Any

from dsr.core.access import Permission, allows
from dsr.core.panels import Panel, register_panel
from dsr.meetings.models import MeetingStatus
from dsr.meetings.scoping import AGENDA, meetings_of

PURPOSE = "record"  # the person page (dsr/register): one audited read covers its panels
SHOWN = 12
# What the panel's lines show (panel_meetings.jinja): the person page is the busiest page.
SHOWS = (
    "meeting",
    "person",
    "outcome",
    "next_review_on",
    "discussed_at",
    "rating__rating",
    "meeting__held_on",
    "meeting__status",
)


def _meetings(viewer: Any, person: Any) -> dict[str, Any]:
    items = list(
        AGENDA.about(viewer, person, purpose=PURPOSE, removed=False)
        .select_related("meeting", "rating")
        .only(*SHOWS)
        .order_by("-meeting__held_on", "-id")[:SHOWN]
    )
    preparing = None
    if person.is_open and allows(viewer.membership, Permission.RUN_MEETING):
        preparing = (
            meetings_of(viewer)
            .filter(status=MeetingStatus.PREPARING)
            .select_related(None)
            .only("pk", "held_on")
            .order_by("held_on")
            .first()
        )
    on_it = preparing is not None and any(i.meeting_id == preparing.pk for i in items)
    return {"entries": items, "preparing": None if on_it else preparing}


def register_panels() -> None:
    register_panel(Panel("meetings", 28, "meetings/panel_meetings.jinja", _meetings))
