"""The doors to tracker meetings' agendas (ADR 0009, ADR 0025).

A meeting itself (its date, place and attendees) is about no one: it is found within the
URL's place, or 404. Its agenda items are care data: each is seen by whoever may see the
person it is about (people/scoping.py `visible`: a partner, only the people in their
network; a withdrawn-consent person, coordinators only), and an item about a referral not
yet on the register by whoever may see the referral (referrals/scoping.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.http import Http404

from dsr.accounts.models import User
from dsr.core.access import ACCESS, Permission
from dsr.core.door import Door, Viewer
from dsr.meetings.models import AgendaItem, Meeting
from dsr.people.scoping import still_visible, visible
from dsr.referrals.scoping import REFERRALS


def meetings_of(viewer: Viewer) -> Any:
    """The meetings of the viewer's place, newest first: dates and places, no one's data."""
    return Meeting.objects.filter(place_id=viewer.membership.place_id).select_related(
        "place__settings", "chair", "minute_taker"
    )


def get_meeting(viewer: Viewer, pk: Any) -> Meeting:
    """A meeting of the viewer's place, or 404; an attempt at another place's meeting is
    audited against that place, as a door's refusal is."""
    meeting = meetings_of(viewer).filter(pk=pk).first()
    if meeting is None:
        elsewhere = Meeting.objects.filter(pk=pk).values_list("place_id", flat=True).first()
        if elsewhere is not None:
            viewer.deny(reason="outside scope", person_id=None, place_id=elsewhere)
        raise Http404("Not found")
    return meeting


def _about_referral(membership: Any) -> Q:
    return Q(referral__isnull=False, meeting__place_id=membership.place_id) & Q(
        referral__in=REFERRALS.within(membership)
    )


def _items_for(membership: Any) -> Q:
    about_person = Q(person__isnull=False) & visible(
        membership, person="person", own_place="meeting__place_id"
    )
    return about_person | _about_referral(membership)


def _items_about(membership: Any, person: Any) -> Any:
    """`_items_for` for the items about a person the people door has given the viewer
    (core/door.py `about_scope`): the person's part of the rule holds already, so every
    item of the place about them is seen, unless their details may not be shared with this
    viewer, when only the items the referral's rule shows are."""
    if still_visible(membership, person):
        return _items_in_place(membership.place_id)
    return AgendaItem.objects.filter(_about_referral(membership))


@functools.lru_cache(maxsize=256)
def _items_in_place(place_id: int) -> Any:
    """Built once a process, as people/scoping.py `follows_person` keeps its rule for a
    place: Door.about narrows a clone of it to the person, never this one."""
    return AgendaItem.objects.filter(meeting__place_id=place_id)


AGENDA: Door[AgendaItem] = Door(
    AgendaItem,
    scope=lambda m: AgendaItem.objects.filter(_items_for(m)),
    about_scope=_items_about,
    place="meeting__place_id",
    related=["meeting", "person", "referral"],
    about_people=False,
)


def _counted(viewer: Viewer, meeting: Meeting) -> dict[str, int]:
    """How many items are on the agenda, how many of them the viewer's door reaches, and how
    many of those were discussed: numbers, never a person. One query."""
    seen = _items_for(viewer.membership)
    counts = meeting.items.filter(removed=False).aggregate(
        live=Count("pk"),
        seen=Count("pk", filter=seen),
        discussed=Count("pk", filter=seen & Q(discussed_at__isnull=False)),
    )
    return {key: int(value) for key, value in counts.items()}


def reach(viewer: Viewer, meeting: Meeting) -> tuple[int, int]:
    """How many of a meeting's items the viewer's door reaches, and how many it does not
    (a partner's pack says that the rest of the agenda is not theirs). One query."""
    counts = _counted(viewer, meeting)
    return counts["seen"], counts["live"] - counts["seen"]


@dataclass(frozen=True)
class AgendaCounts:
    """Numbers about a meeting's agenda as one viewer sees it: never a person."""

    seen: int  # items on the agenda the viewer's door reaches
    discussed: int  # of those, discussed
    withheld: int  # items on the agenda it does not reach
    next_to_discuss: int | None  # the first seen item still to discuss (its id)

    @property
    def whole(self) -> bool:
        """The viewer's door reaches every item on the agenda."""
        return self.withheld == 0


def agenda_counts(viewer: Viewer, meeting: Meeting) -> AgendaCounts:
    """The agenda's numbers for a page that shows it a part at a time. Two queries."""
    counts = _counted(viewer, meeting)
    live = meeting.items.filter(removed=False)
    # A viewer who sees the whole agenda: its order alone finds the next (the visibility
    # rule costs a look at each item's person: make bench, 1,500 items).
    whole = counts["seen"] == counts["live"]
    waiting = live if whole else live.filter(_items_for(viewer.membership))
    return AgendaCounts(
        seen=counts["seen"],
        discussed=counts["discussed"],
        withheld=counts["live"] - counts["seen"],
        next_to_discuss=waiting.filter(discussed_at__isnull=True)
        .order_by("position", "id")
        .values_list("pk", flat=True)
        .first(),
    )


def agenda_part(meeting: Meeting, start: int, stop: int) -> list[int]:
    """The ids of the items on the agenda from `start` to `stop`, in order: a page of the
    agenda for a viewer who sees all of it (`AgendaCounts.whole`), read then through the
    door. Ids, never a person; one query on the agenda's own order."""
    return list(
        meeting.items.filter(removed=False)
        .order_by("position", "id")
        .values_list("pk", flat=True)[start:stop]
    )


def team_of(viewer: Viewer) -> Any:
    """Users who may take part in the place's meetings (chair, minute-taker, attendees):
    active members whose role sees its meetings. Names of staff, no one's care data."""
    roles = [role for role, held in ACCESS.items() if Permission.VIEW_MEETINGS in held]
    return (
        User.objects.filter(
            is_active=True,
            memberships__place_id=viewer.membership.place_id,
            memberships__is_active=True,
            memberships__role__in=roles,
        )
        .distinct()
        .order_by("full_name", "id")
    )


def place_in_agenda(meeting: Meeting, item: AgendaItem) -> tuple[int, int]:
    """Where an item stands among the items on the agenda: (its number, how many). Numbers,
    never a person; one query."""
    counts = meeting.items.filter(removed=False).aggregate(
        before=Count("pk", filter=Q(position__lt=item.position)), live=Count("pk")
    )
    return int(counts["before"]) + 1, int(counts["live"])
