"""What the meeting pages show, read through the doors (ADR 0009): the meeting page (its
details, attendees, what the last meeting left open, the agenda) and the page for one
person in the meeting. Each page is one audited read of the people it shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator

from dsr.actions.models import ActionStatus
from dsr.actions.scoping import ACTIONS
from dsr.core.access import Permission, allows
from dsr.core.door import Viewer
from dsr.hospital.scoping import ADMISSIONS
from dsr.keywork.scoping import ALLOCATIONS
from dsr.meetings.agenda import by_coordinator
from dsr.meetings.models import AgendaItem, Attendee, Meeting, MeetingStatus
from dsr.meetings.scoping import AGENDA, agenda_counts, agenda_part, place_in_agenda
from dsr.people import sharing

PURPOSE = "tracker meeting"
PAGE_SIZE = 50  # agenda items a page


@dataclass(frozen=True)
class Line:
    """An agenda item as a list shows it."""

    item: AgendaItem
    identity: sharing.Identity | None  # None: a referral not on the register
    reasons: list[str]

    @property
    def pk(self) -> int:
        return self.item.pk


def _reasons(item: AgendaItem) -> list[str]:
    texts = [r["text"] for r in item.reasons]
    if item.added_reason:
        texts.append(by_coordinator(item.added_reason).text)
    return texts


def line(viewer: Viewer, item: AgendaItem) -> Line:
    identity = (
        sharing.identify(item.person, sharing.Audience.of(viewer)) if item.person_id else None
    )
    return Line(item=item, identity=identity, reasons=_reasons(item))


def _agenda(viewer: Viewer, meeting: Meeting) -> Any:
    return (
        AGENDA.list(viewer, purpose=PURPOSE)
        .filter(meeting=meeting)
        .select_related("person", "referral", "rating")
        .order_by("position", "id")
    )


def meeting_page(viewer: Viewer, meeting: Meeting, page_number: Any = None) -> dict[str, Any]:
    """The meeting, and its agenda a page of `PAGE_SIZE` at a time (a place's agenda can
    run to hundreds): the page's audited read names the people it shows."""
    agenda = _agenda(viewer, meeting)
    counts = agenda_counts(viewer, meeting)
    page = Paginator(range(counts.seen), PAGE_SIZE).get_page(page_number)  # counts only
    start, stop = max(page.start_index() - 1, 0), page.end_index()
    with viewer.one_event(PURPOSE):
        if counts.whole:  # found by the agenda's order, read through the door
            items = list(agenda.filter(removed=False, pk__in=agenda_part(meeting, start, stop)))
        else:
            items = list(agenda.filter(removed=False)[start:stop])
        removed = list(agenda.filter(removed=True))
        previous_items: list[AgendaItem] = []
        still_open: list[Any] = []
        if meeting.previous_id is not None:
            previous_items = list(
                AGENDA.list(viewer, purpose=PURPOSE)
                .filter(meeting_id=meeting.previous_id, discussed_at__isnull=False)
                .select_related("person", "rating")
                .order_by("position", "id")
            )
            still_open = list(
                ACTIONS.list(viewer, purpose=PURPOSE)
                .filter(
                    meeting_link__item__meeting_id=meeting.previous_id,
                    status=ActionStatus.OPEN,
                )
                .select_related("person", "owner_user", "owner_organisation")
                .order_by("due_on", "id")
            )
    audience = sharing.Audience.of(viewer)
    return {
        "meeting": meeting,
        "attendees": list(
            Attendee.objects.filter(meeting=meeting).select_related("user", "organisation")
        ),
        "page": page,
        "on": [line(viewer, i) for i in items],
        "seen": counts.seen,
        "off": [line(viewer, i) for i in removed],
        "discussed": counts.discussed,
        "next_to_discuss": counts.next_to_discuss,
        "withheld": counts.withheld,
        "previous": meeting.previous,
        "previous_items": [line(viewer, i) for i in previous_items],
        "still_open": [
            (action, sharing.identify(action.person, audience)) for action in still_open
        ],
        "may_run": allows(viewer.membership, Permission.RUN_MEETING),
        "preparing": meeting.status == MeetingStatus.PREPARING,
        "running": meeting.status == MeetingStatus.IN_PROGRESS,
        "finished": meeting.status == MeetingStatus.FINISHED,
    }


def first_item(viewer: Viewer, meeting: Meeting) -> int | None:
    """The first person still to discuss: where starting the meeting lands."""
    first = (
        AGENDA.list(viewer, purpose=PURPOSE)
        .filter(meeting=meeting, removed=False, discussed_at__isnull=True)
        .order_by("position", "id")
        .only("pk", "person_id", "referral_id")
        .first()
    )
    return first.pk if first is not None else None


def _neighbour(viewer: Viewer, meeting: Meeting, item: AgendaItem, *, after: bool) -> Any:
    beside = AGENDA.list(viewer, purpose=PURPOSE).filter(meeting=meeting, removed=False)
    if after:
        beside = beside.filter(position__gt=item.position).order_by("position", "id")
    else:
        beside = beside.filter(position__lt=item.position).order_by("-position", "-id")
    return beside.select_related("person", "referral").first()


def item_page(viewer: Viewer, meeting: Meeting, item: AgendaItem) -> dict[str, Any]:
    """One person in the meeting, on one screen: who they are (as far as this viewer may
    know), why they are here, the key safety information, and what is open about them."""
    audience = sharing.Audience.of(viewer)
    person = item.person
    open_actions: list[Any] = []
    stay = keyworker = None
    agreed: list[Any] = []
    with viewer.one_event(PURPOSE):
        following = _neighbour(viewer, meeting, item, after=True)
        before = _neighbour(viewer, meeting, item, after=False)
    if person is not None:
        open_actions = list(
            ACTIONS.about(viewer, person, purpose=PURPOSE, status=ActionStatus.OPEN)
            .select_related("owner_user", "owner_organisation")
            .order_by("due_on", "id")[:20]
        )
        stay = ADMISSIONS.about(viewer, person, purpose=PURPOSE).current().first()
        allocation = (
            ALLOCATIONS.about(viewer, person, purpose=PURPOSE)
            .current()
            .select_related("keyworker")
            .first()
        )
        keyworker = allocation.keyworker if allocation is not None else None
        if item.is_discussed:
            agreed = list(
                ACTIONS.about(viewer, person, purpose=PURPOSE, meeting_link__item=item)
                .select_related("owner_user", "owner_organisation")
                .order_by("id")
            )
    number, total = place_in_agenda(meeting, item)
    return {
        "meeting": meeting,
        "item": item,
        "identity": sharing.identify(person, audience) if person is not None else None,
        "reasons": _reasons(item),
        "person": person,
        "open_actions": open_actions,
        "agreed": agreed,
        "stay": stay,
        "keyworker": keyworker,
        "next_item": following.pk if following is not None else None,
        "next_line": line(viewer, following) if following is not None else None,
        "previous_line": line(viewer, before) if before is not None else None,
        "number": number,
        "total": total,
        "may_run": allows(viewer.membership, Permission.RUN_MEETING),
        "running": meeting.status == MeetingStatus.IN_PROGRESS,
    }
