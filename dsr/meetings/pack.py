"""A tracker meeting's pack (before) and minutes (after), as plain data (issue 11, part 4).

Everything is read through the doors (AGENDA, ACTIONS, ADMISSIONS) inside one
`viewer.one_event(..., exported=True)` block: a pack is one `exported` audit event naming
everyone in it, however many lists it read. The number of queries does not grow with the
agenda (tests/meetings/test_pack.py).

Who is in it is the doors' answer: a partner's pack holds only the items about people in
their care network, and says how many others it leaves out (a number, never a person).
Each person is shown as `identify` gives them for the meeting-pack channel; a person whose
consent is withdrawn appears as a stand-in with nothing written about them but that the
record is restricted and its rating (DOMAIN.md "Consent and information sharing").

The page and the Word file (word.py) are drawn from these dataclasses after the block:
nothing below hands out a queryset.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import F, Q

from dsr.actions.models import ActionStatus
from dsr.actions.scoping import ACTIONS
from dsr.core.door import Viewer
from dsr.hospital.scoping import ADMISSIONS
from dsr.keywork.scoping import current_keyworker
from dsr.meetings.models import Meeting, MeetingStatus
from dsr.meetings.scoping import AGENDA, agenda_part, reach
from dsr.people.sharing import Audience, Channel, Identity, identify, shareable
from dsr.risk.models import RiskRating

PACK = "pack"
MINUTES = "minutes"
MARKING = "OFFICIAL-SENSITIVE"
PART_SIZE = 50  # people a printable page holds
RESTRICTED_NOTE = (
    "Consent withdrawn: the record is restricted and no details about this person are included."
)


@dataclass(frozen=True)
class ActionLine:
    description: str  # "" for a restricted person's action: never shown
    owner: str
    due_on: date
    status: str
    about: str = ""  # whom it is about, where the list is not under a person's heading


@dataclass(frozen=True)
class Stay:
    hospital: str
    admitted_on: date
    ward: str
    legal_status: str
    out_of_area: bool

    @property
    def line(self) -> str:
        """ "Riverside Hospital, admitted 2 March 2026 (ward; section 3; out of area)"."""
        facts = [self.ward, self.legal_status] + (["out of area"] if self.out_of_area else [])
        return f"{self.hospital}, admitted {self.admitted_on:%-d %B %Y} ({'; '.join(facts)})"


@dataclass(frozen=True)
class Summary:
    """One screen about a person before the meeting."""

    born: date | None
    nhs_number: str
    rated_on: date | None
    review_due: date | None
    accommodation: str
    keyworker: str
    key_safety_information: str
    communication_needs: str
    open_actions: list[ActionLine]
    stay: Stay | None


@dataclass(frozen=True)
class Decision:
    """What the meeting decided about an item (the minutes)."""

    discussed: bool
    notes: str
    outcome: str
    rating: str  # code
    next_review_on: date | None
    agreed: list[ActionLine]


@dataclass(frozen=True)
class Entry:
    """One agenda item: a person, or a referral not yet on the register."""

    number: int
    title: str
    restricted: bool
    is_referral: bool
    rating: str  # code: the current one (pack)
    reasons: list[str]
    summary: Summary | None = None
    referral_received_on: date | None = None
    referral_status: str = ""
    decision: Decision | None = None

    @property
    def anchor(self) -> str:
        return f"item-{self.number}"


@dataclass(frozen=True)
class Earlier:
    """What the last meeting decided about one person."""

    title: str
    restricted: bool
    outcome: str
    rating: str
    next_review_on: date | None


@dataclass(frozen=True)
class Attending:
    label: str
    absent: bool


@dataclass
class Pack:
    kind: str  # PACK or MINUTES
    meeting_id: int
    held_on: date
    place: str
    venue: str
    chair: str
    minute_taker: str
    status: str
    attendees: list[Attending]
    entries: list[Entry]
    withheld: int  # items the reader's door does not reach
    seen: int  # items it reaches: all in `entries`, or a printable page's part of them
    previous_held_on: date | None = None
    previous_decisions: list[Earlier] = field(default_factory=list)
    previous_actions: list[ActionLine] = field(default_factory=list)

    @property
    def is_minutes(self) -> bool:
        return self.kind == MINUTES

    @property
    def title(self) -> str:
        return "Tracker meeting minutes" if self.is_minutes else "Tracker meeting pack"

    @property
    def filename(self) -> str:
        return f"tracker-meeting-{self.held_on:%Y-%m-%d}-{self.kind}.docx"

    @property
    def present(self) -> list[Attending]:
        return [a for a in self.attendees if not a.absent]

    @property
    def absent(self) -> list[Attending]:
        return [a for a in self.attendees if a.absent]


_RATING_LABELS = {code: str(label) for code, label in RiskRating.choices}


def rating_label(code: str) -> str:
    """A rating's label (Django's `values` is a new list at each call: once a person in a
    pack)."""
    return _RATING_LABELS.get(code, "Not rated")


def pack_ready(meeting: Meeting) -> bool:
    """A pack once the agenda has been prepared."""
    return meeting.agenda_built_at is not None


def minutes_ready(meeting: Meeting) -> bool:
    """Minutes once the meeting has finished."""
    return meeting.status == MeetingStatus.FINISHED


def build_pack(
    viewer: Viewer, meeting: Meeting, *, purpose: str, part: Page[Any] | None = None
) -> Pack:
    if not pack_ready(meeting):
        raise ValueError("The agenda has not been prepared")
    return _build(viewer, meeting, kind=PACK, purpose=purpose, part=part)


def build_minutes(
    viewer: Viewer, meeting: Meeting, *, purpose: str, part: Page[Any] | None = None
) -> Pack:
    if not minutes_ready(meeting):
        raise ValueError("The meeting has not finished")
    return _build(viewer, meeting, kind=MINUTES, purpose=purpose, part=part)


def printable_part(viewer: Viewer, meeting: Meeting, number: Any) -> Page[Any]:
    """Which of the items the viewer sees a printable page holds, `PART_SIZE` at a time (a
    page of counts, no one's data; the Word document holds them all). One query."""
    seen, _ = _reach(viewer, meeting)
    return Paginator(range(seen), PART_SIZE).get_page(number)


def _reach(viewer: Viewer, meeting: Meeting) -> tuple[int, int]:
    """The agenda's numbers for this reader, counted once a request (the part and the
    pack both need them)."""
    return viewer.keep(("agenda reach", meeting.pk), lambda: reach(viewer, meeting))  # type: ignore[no-any-return]


def _build(
    viewer: Viewer, meeting: Meeting, *, kind: str, purpose: str, part: Page[Any] | None
) -> Pack:
    audience = Audience.of(viewer, Channel.MEETING_PACK)
    minutes = kind == MINUTES
    first = 1
    seen, withheld = _reach(viewer, meeting)
    with viewer.one_event(purpose, exported=True):
        chosen = (
            AGENDA.list(viewer, purpose=purpose)
            .filter(meeting_id=meeting.pk, removed=False)
            .select_related("person", "referral", "rating")
            .annotate(keyworker_name=current_keyworker("person_id"))
            .order_by("position", "id")
        )
        if part is not None and part.paginator.count:
            first = part.start_index()
            if withheld:
                chosen = chosen[first - 1 : part.end_index()]
            else:  # the reader sees it all: the agenda's order finds the part (scoping.py)
                chosen = chosen.filter(pk__in=agenda_part(meeting, first - 1, part.end_index()))
        items = list(chosen)
        identities = {
            item.person_id: identify(item.person, audience) for item in items if item.person_id
        }
        # Details are read only for the people whose details may go into a pack.
        shared = [pk for pk, who in identities.items() if not who.restricted]
        actions = _actions(viewer, purpose, meeting, shared, minutes=minutes)
        stays = {} if minutes else _stays(viewer, purpose, shared)
        entries = [
            _entry(number, item, identities, actions, stays, minutes=minutes)
            for number, item in enumerate(items, start=first)
        ]
        built = Pack(
            kind=kind,
            meeting_id=meeting.pk,
            held_on=meeting.held_on,
            place=meeting.place.name,
            venue=meeting.venue,
            chair=str(meeting.chair) if meeting.chair_id else "",
            minute_taker=str(meeting.minute_taker) if meeting.minute_taker_id else "",
            status=meeting.get_status_display(),
            attendees=[
                Attending(label=a.label, absent=a.absent)
                for a in meeting.attendees.select_related("user", "organisation")
            ],
            entries=entries,
            withheld=withheld,
            seen=seen,
        )
        if not minutes and meeting.previous_id is not None and first == 1:
            _add_previous(viewer, purpose, meeting, built, audience)
    return built


def _action_line(action: Any, *, about: str = "") -> ActionLine:
    return ActionLine(
        description=action.description,
        owner=action.owner_label,
        due_on=action.due_on,
        status=action.get_status_display(),
        about=about,
    )


def _actions(
    viewer: Viewer, purpose: str, meeting: Meeting, people: list[int], *, minutes: bool
) -> dict[tuple[str, int], list[ActionLine]]:
    """The pack: each person's open actions, by ("person", id). The minutes: the actions
    agreed at each item, by ("item", id). One query either way."""
    found: dict[tuple[str, int], list[ActionLine]] = defaultdict(list)
    if not people:
        return found
    wanted = (
        Q(meeting_link__item__meeting_id=meeting.pk) if minutes else Q(status=ActionStatus.OPEN)
    )
    rows = (
        ACTIONS.list(viewer, purpose=purpose)
        .filter(wanted, person_id__any_of=people)
        .select_related("owner_user", "owner_organisation")
        .annotate(agreed_at=F("meeting_link__item_id"))
        .order_by("due_on", "id")
    )
    for action in rows:
        key = ("item", action.agreed_at) if minutes else ("person", action.person_id)
        found[key].append(_action_line(action))
    return found


def _stays(viewer: Viewer, purpose: str, people: list[int]) -> dict[int, Stay]:
    if not people:
        return {}
    rows = ADMISSIONS.list(viewer, purpose=purpose).filter(
        person_id__any_of=people, discharged_on__isnull=True
    )
    return {
        stay.person_id: Stay(
            hospital=stay.hospital,
            admitted_on=stay.admitted_on,
            ward=stay.get_ward_type_display(),
            legal_status=stay.get_legal_status_display(),
            out_of_area=stay.out_of_area,
        )
        for stay in rows
    }


def _reasons(item: Any) -> list[str]:
    texts = [r.get("text", "") for r in item.reasons if r.get("text")]
    if item.added_reason:
        texts.append(f"Added by the coordinator: {item.added_reason}")
    return texts


def _entry(
    number: int,
    item: Any,
    identities: dict[int, Identity],
    actions: dict[tuple[str, int], list[ActionLine]],
    stays: dict[int, Stay],
    *,
    minutes: bool,
) -> Entry:
    if item.person_id is None:
        referral = item.referral
        return Entry(
            number=number,
            title="New referral",
            restricted=False,
            is_referral=True,
            rating="",
            reasons=[],
            referral_received_on=referral.received_on,
            referral_status=referral.get_status_display(),
            decision=_decision(item, [], restricted=False) if minutes else None,
        )
    person = item.person
    who = identities[item.person_id]
    if who.restricted:
        # The stand-in and the rating: no reasons, notes, safety information or actions.
        return Entry(
            number=number,
            title=who.name,
            restricted=True,
            is_referral=False,
            rating=person.current_rating,
            reasons=[],
            decision=_decision(item, [], restricted=True) if minutes else None,
        )
    summary = None
    if not minutes:
        summary = Summary(
            born=who.born,
            nhs_number=who.nhs_number,
            rated_on=person.rated_on,
            review_due=person.review_due,
            accommodation=person.get_accommodation_display(),
            keyworker=item.keyworker_name or "",
            key_safety_information=person.key_safety_information,
            communication_needs=person.communication_needs,
            open_actions=actions.get(("person", person.pk), []),
            stay=stays.get(person.pk),
        )
    return Entry(
        number=number,
        title=who.name,
        restricted=False,
        is_referral=False,
        rating=person.current_rating,
        reasons=_reasons(item),
        summary=summary,
        decision=(
            _decision(item, actions.get(("item", item.pk), []), restricted=False)
            if minutes
            else None
        ),
    )


def _decision(item: Any, agreed: list[ActionLine], *, restricted: bool) -> Decision:
    return Decision(
        discussed=item.discussed_at is not None,
        notes="" if restricted else item.notes,
        outcome=item.get_outcome_display() if item.outcome else "",
        rating=item.rating.rating if item.rating_id else "",
        next_review_on=item.next_review_on,
        agreed=agreed,
    )


def _add_previous(
    viewer: Viewer, purpose: str, meeting: Meeting, built: Pack, audience: Audience
) -> None:
    """ "From the last meeting": what it decided about each person the reader may see, and
    its agreed actions still open (not a restricted person's: nothing written about them)."""
    previous = meeting.previous
    assert previous is not None
    built.previous_held_on = previous.held_on
    decided = (
        AGENDA.list(viewer, purpose=purpose)
        .filter(
            meeting_id=previous.pk,
            removed=False,
            person__isnull=False,
            discussed_at__isnull=False,
        )
        .select_related("person", "rating")
        .order_by("position", "id")
    )
    for item in decided:
        who = identify(item.person, audience)
        built.previous_decisions.append(
            Earlier(
                title=who.name,
                restricted=who.restricted,
                outcome=item.get_outcome_display() if item.outcome else "",
                rating=item.rating.rating if item.rating_id else "",
                next_review_on=item.next_review_on,
            )
        )
    still_open = (
        ACTIONS.list(viewer, purpose=purpose)
        .filter(meeting_link__item__meeting_id=previous.pk, status=ActionStatus.OPEN)
        .filter(shareable(audience, person="person"))
        .select_related("person", "owner_user", "owner_organisation")
        .order_by("due_on", "id")
    )
    for action in still_open:
        who = identify(action.person, audience)
        built.previous_actions.append(_action_line(action, about=who.name))
