"""May this person's identifiable data go to this audience? The one answer (ADR 0019).

DOMAIN.md "Consent and information sharing": consent can be withdrawn at any time; the
record is then restricted — only coordinators see who the person is — and identifiable
data stop flowing into lists, pages, reminders, exports, meeting packs and the API. Every
path that sends a person's details outwards asks `may_share`; pages show a person through
`identify`, which asks it for them; searches by what identifies someone go through
`searchable`, so that a search cannot confirm that a restricted person is on the register.
Reminder emails never carry names at all: the answer for email is always no.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from dsr.core.access import Role
from dsr.people.choices import ConsentState

RESTRICTED = "Restricted record"
WITHHELD = "consent withdrawn: details go to coordinators only"


class Channel(enum.StrEnum):
    """Where a person's details would go."""

    PAGE = "page"  # a signed-in user's screen
    EMAIL = "email"  # reminder digests and any other mail
    EXPORT = "export"  # a file downloaded from the register
    MEETING_PACK = "meeting pack"  # a tracker meeting's pack or minutes
    API = "api"
    TRANSFER = "transfer"  # a record carried to another place


@dataclass(frozen=True)
class Audience:
    channel: Channel
    role: str | None = None  # the reader's role in the person's place, when a user reads

    @classmethod
    def of(cls, viewer: Any, channel: Channel = Channel.PAGE) -> Audience:
        """A viewer (core/door.py) reading, on screen unless another channel is given."""
        return cls.of_membership(getattr(viewer, "membership", None), channel)

    @classmethod
    def of_membership(cls, membership: Any, channel: Channel = Channel.PAGE) -> Audience:
        return cls(channel, membership.role if membership is not None else None)


def may_share(person: Any, audience: Audience) -> bool:
    """Whether `person`'s identifiable data (name, date of birth, NHS number, address and
    anything written about them) may go to `audience`."""
    if audience.channel is Channel.EMAIL:
        return False  # reminders carry links, never names
    if person.consent_state != ConsentState.WITHDRAWN:
        return True
    return audience.channel is Channel.PAGE and audience.role == Role.COORDINATOR


def shareable(audience: Audience, *, person: str = "") -> Q:
    """`may_share` as a filter: on people (`person=""`), or on records about a person at
    the path `person` ("person"). Every door's visibility rule applies it
    (people/scoping.py `visible`), so a restricted person's records reach no list, count or
    page of an audience that may not have their details."""
    prefix = f"{person}__" if person else ""
    if audience.channel is Channel.EMAIL:
        return Q(**{f"{prefix}pk__in": []})
    if audience.channel is Channel.PAGE and audience.role == Role.COORDINATOR:
        return Q()
    return ~Q(**{f"{prefix}consent_state": ConsentState.WITHDRAWN})


def searchable(people: QuerySet[Any], audience: Audience) -> QuerySet[Any]:
    """The people a list or search may show this audience by name."""
    return people.filter(shareable(audience))


@dataclass(frozen=True)
class Identity:
    """Who a person is, as far as an audience may know: their details, or a stand-in."""

    pk: int
    name: str  # "Alice Ashby"
    listed: str  # "ASHBY, Alice", as lists sort them
    known_as: str
    born: date | None
    nhs_number: str
    restricted: bool


def identify(person: Any, audience: Audience) -> Identity:
    if may_share(person, audience):
        return Identity(
            pk=person.pk,
            name=f"{person.given_name} {person.family_name}",
            listed=f"{person.family_name.upper()}, {person.given_name}",
            known_as=person.preferred_name,
            born=person.date_of_birth,
            nhs_number=person.nhs_number,
            restricted=False,
        )
    return Identity(
        pk=person.pk,
        name=f"{RESTRICTED} {person.pk}",
        listed=f"{RESTRICTED} {person.pk}",
        known_as="",
        born=None,
        nhs_number="",
        restricted=True,
    )


# Pages that show a restricted person only through `identify`: the person page (a
# stand-in saying the record is restricted) and "who has accessed this record" (auditors).
SHOWN_RESTRICTED = frozenset({"record", "access history"})


def withheld(viewer: Any, person: Any, purpose: str) -> str:
    """For the people door's `admit`: why a person is withheld from this viewer for this
    purpose ("" when they are not). Every page about a restricted person but those that
    show them through `identify` — its forms, its history — is refused (404, audited) to all
    but coordinators; their other records are out of scope already (`shareable`)."""
    if purpose in SHOWN_RESTRICTED or may_share(person, Audience.of(viewer)):
        return ""
    return WITHHELD
