"""May this person's identifiable data go to this audience? The one answer (ADR 0015).

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
        membership = getattr(viewer, "membership", None)
        return cls(channel, membership.role if membership is not None else None)


def may_share(person: Any, audience: Audience) -> bool:
    """Whether `person`'s identifiable data (name, date of birth, NHS number, address and
    anything written about them) may go to `audience`."""
    if audience.channel is Channel.EMAIL:
        return False  # reminders carry links, never names
    if person.consent_state != ConsentState.WITHDRAWN:
        return True
    return audience.channel is Channel.PAGE and audience.role == Role.COORDINATOR


def shareable(audience: Audience) -> Q:
    """`may_share` as a filter on people, for searches and lists that must not even match
    a person whose details this audience may not have."""
    if audience.channel is Channel.EMAIL:
        return Q(pk__in=[])
    if audience.channel is Channel.PAGE and audience.role == Role.COORDINATOR:
        return Q()
    return ~Q(consent_state=ConsentState.WITHDRAWN)


def searchable(people: QuerySet[Any], audience: Audience) -> QuerySet[Any]:
    """People a search by name, NHS number or date of birth may find for this audience."""
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


def withheld(viewer: Any, record: Any, purpose: str, *, person: str = "person") -> str:
    """For a door's `admit`: why a record about a person is withheld from this viewer for
    this purpose ("" when it is not). Every other page about a restricted person — its forms,
    its actions — is refused (404, audited) to all but coordinators."""
    subject = record if not person else getattr(record, person, None)
    if subject is None or purpose in SHOWN_RESTRICTED:
        return ""
    return "" if may_share(subject, Audience.of(viewer)) else WITHHELD
