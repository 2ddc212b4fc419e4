"""The tracker meeting's pack and minutes (issue 11, part 4): a printable page and a Word
document, marked OFFICIAL-SENSITIVE; a withdrawn-consent person appears with nothing that
identifies them; a partner's copy holds only their network's people; each download is one
`exported` audit event naming everyone in it; the number of queries does not grow with the
agenda."""

from __future__ import annotations

import gc
import html
import re
from datetime import date
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import pytest
import time_machine
from docx import Document

from dsr.actions import services as actions
from dsr.consent import services as consent
from dsr.core import nhs_number
from dsr.core.access import Role
from dsr.core.door import Viewer
from dsr.core.models import AuditEvent, AuditShown
from dsr.core.routing import url_in
from dsr.keywork import services as keywork
from dsr.meetings import pack
from dsr.meetings.models import AgendaItem
from dsr.people import services as people
from dsr.risk.services import AgreedAction
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import READS, at, count_queries
from tests.hospital.factories import admit
from tests.meetings.factories import confirm, finish, prepared, schedule, start

pytestmark = pytest.mark.django_db

LAST = date(2026, 2, 2)
MEETING = date(2026, 3, 2)
WORD = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSS = Path(__file__).resolve().parents[2] / "dsr" / "static" / "app" / "app.css"


def on(day: str):
    return time_machine.travel(f"{day} 10:00:00+00:00", tick=False)


def docx_text(response) -> str:
    """Everything a reader of the Word file sees: body, tables, page headers and footers."""
    assert response["Content-Type"] == WORD
    document = Document(BytesIO(response.content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs]
        parts += [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def page_text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.fixture
def register(cast, place_a):
    """Alice (Red, with safety information, an open action and a keyworker); Wendy (Red;
    consent withdrawn after the last meeting talked about her); Pat (Red, in the partner's
    network, now in hospital); a referral not yet on the register. Last month's meeting
    decided about Alice and Wendy and agreed an action for each; this month's agenda is
    prepared."""
    with on("2026-01-20"):
        alice = factories.make_person(
            place_a,
            rating="R",
            given_name="Alice",
            family_name="Ashby",
            key_safety_information="Frightened of dogs; leaves the house when upset",
            communication_needs="Uses Makaton signs",
        )
        wendy = factories.make_person(
            place_a,
            rating="R",
            given_name="Wendy",
            family_name="Whitlock",
            date_of_birth=date(2013, 7, 14),
            key_safety_information="Hides sharp objects in her bedroom",
            communication_needs="Needs a quiet room to talk",
        )
        pat = factories.make_person(place_a, rating="R", given_name="Pat", family_name="Pennant")
        factories.in_network(pat, cast[Role.PARTNER])
        last = prepared(place_a, LAST)
    with on("2026-02-02"):
        start(last)
        confirm(
            last,
            alice,
            next_review_on=date(2026, 2, 9),
            notes="Alice was calmer at home",
            agreed=[
                AgreedAction(
                    description="Call Alice's GP about sleep",
                    due_on=date(2026, 3, 20),
                    owner_name="Dr Owl",
                )
            ],
        )
        confirm(
            last,
            wendy,
            next_review_on=date(2026, 2, 9),
            notes="Wendy's mother asked for respite",
            agreed=[
                AgreedAction(
                    description="Find Wendy a respite placement",
                    due_on=date(2026, 3, 20),
                    owner_name="Ms Finch",
                )
            ],
        )
        finish(last)
    with on("2026-02-10"):
        actions.open_action(
            person=alice,
            description="Arrange Alice's sensory assessment",
            due_on=date(2026, 3, 9),
            source="other",
            owner_name="Ms Heron",
            by=SYSTEM,
        )
        consent.withdraw_consent(
            person=wendy, withdrawn_on=date(2026, 2, 10), withdrawn_by="Mum", by=SYSTEM
        )
        people.add_network_member(
            person=alice,
            name="Ola SENCO",
            job_title="SENCO",
            started_on=date(2026, 2, 10),
            by=SYSTEM,
        )
        keywork.allocate_keyworker(person=alice, keyworker=cast[Role.KEYWORKER], by=SYSTEM)
        admit(pat, hospital="Riverside Hospital", admitted_on=date(2026, 2, 10))
        referral = factories.make_referral(place_a, given_name="Rory", family_name="Referred")
    with on("2026-02-25"):
        meeting = prepared(
            place_a, MEETING, venue="Room 4, Civic Centre", chair=cast[Role.COORDINATOR]
        )
    wendy.refresh_from_db()
    return SimpleNamespace(
        alice=alice, wendy=wendy, pat=pat, referral=referral, last=last, meeting=meeting
    )


@pytest.fixture
def finished(register):
    """The meeting held: Alice confirmed with an action, Wendy discussed, Pat not reached."""
    meeting = register.meeting
    with on("2026-03-02"):
        start(meeting)
        confirm(
            meeting,
            register.alice,
            next_review_on=date(2026, 3, 9),
            notes="Alice has settled back at school",
            agreed=[
                AgreedAction(
                    description="Visit Alice's school with her mum",
                    due_on=date(2026, 3, 16),
                    owner_name="Ms Wren",
                )
            ],
        )
        confirm(
            meeting,
            register.wendy,
            next_review_on=date(2026, 3, 9),
            notes="Wendy's mother is struggling at night",
            agreed=[
                AgreedAction(
                    description="Arrange night support for Wendy",
                    due_on=date(2026, 3, 16),
                    owner_name="Mr Crow",
                )
            ],
        )
        finish(meeting)
    return register


def wendy_details(wendy) -> list[str]:
    """What identifies Wendy, or was written about her."""
    return [
        "Wendy",
        "Whitlock",
        "WHITLOCK",
        "14 July 2013",
        "2013-07-14",
        wendy.nhs_number,
        nhs_number.display(wendy.nhs_number),
        "sharp objects",
        "quiet room",
        "respite",
        "struggling at night",
        "night support",
    ]


# The Word document ------------------------------------------------------------------------


def test_the_word_pack_is_marked_official_sensitive(coordinator, register):
    with on("2026-02-26"):
        response = coordinator.get(at(register.meeting, "meetings:pack_docx"))
    assert response.status_code == 200
    assert response["Content-Type"] == WORD
    assert response["Content-Disposition"] == (
        'attachment; filename="tracker-meeting-2026-03-02-pack.docx"'
    )
    document = Document(BytesIO(response.content))
    section = document.sections[0]
    assert [p.text for p in section.header.paragraphs] == ["OFFICIAL-SENSITIVE"]
    assert [p.text for p in section.footer.paragraphs] == ["OFFICIAL-SENSITIVE"]
    assert document.paragraphs[0].text == "OFFICIAL-SENSITIVE"
    assert document.paragraphs[-1].text == "OFFICIAL-SENSITIVE"


@pytest.mark.parametrize(
    ("route", "meeting"),
    [("meetings:pack_docx", "register"), ("meetings:minutes_docx", "finished")],
)
def test_a_word_document_is_built_with_the_cycle_collector_held_off(
    coordinator, request, monkeypatch, route, meeting
):
    """Its thousands of objects are not walked again and again (core/collector.py); the
    collector is back on once the document is returned."""
    seen = []
    built = pack.build_minutes if route == "meetings:minutes_docx" else pack.build_pack

    def build(*args, **kwargs):
        seen.append(gc.isenabled())
        return built(*args, **kwargs)

    monkeypatch.setattr(pack, built.__name__, build)
    with on("2026-03-03"):
        response = coordinator.get(at(request.getfixturevalue(meeting).meeting, route))
    assert response.status_code == 200
    assert seen == [False]
    assert gc.isenabled()


def test_the_word_pack_holds_the_meeting_and_a_summary_of_each_person(coordinator, register):
    with on("2026-02-26"):
        text = docx_text(coordinator.get(at(register.meeting, "meetings:pack_docx")))
    assert "Tracker meeting pack: 2 March 2026" in text
    assert "Room 4, Civic Centre" in text
    assert "Coordinator" in text  # the chair
    # Alice's one-screen summary: why she is here, her safety information, her open actions
    assert "Alice Ashby" in text
    assert "Rated Red since 2 February 2026" in text  # why: confirmed at the last meeting
    assert "Current rating: Red since 2 February 2026" in text
    assert "Frightened of dogs; leaves the house when upset" in text
    assert "Uses Makaton signs" in text
    assert "Arrange Alice's sensory assessment" in text and "Ms Heron" in text
    assert "9 March 2026" in text
    assert "Keyworker: Keyworker" in text  # the keyworker's name (keyworker@a.example)
    # Pat's stay in hospital
    assert "In hospital: Riverside Hospital, admitted 10 February 2026" in text
    # The referral: when it came and where it stands, not who it is about
    assert "Referral received" in text
    assert "Rory" not in text and "Referred" not in text
    # From the last meeting: its decision about Alice and its action still open
    assert "From the last meeting (2 February 2026)" in text
    assert "Rating confirmed" in text
    assert "Call Alice's GP about sleep" in text and "Dr Owl" in text


def test_each_person_starts_a_new_section_of_the_word_pack(coordinator, register):
    with on("2026-02-26"):
        response = coordinator.get(at(register.meeting, "meetings:pack_docx"))
    document = Document(BytesIO(response.content))
    people = [
        p.text
        for p in document.paragraphs
        if p.style.name == "Heading 1" and p.paragraph_format.page_break_before
    ]
    live = AgendaItem.objects.filter(meeting=register.meeting, removed=False).count()
    assert len(people) == live == 4
    assert any(title.endswith("Alice Ashby") for title in people)
    assert any(title.endswith("New referral") for title in people)


def test_the_word_minutes_record_what_the_meeting_decided(coordinator, finished):
    response = coordinator.get(at(finished.meeting, "meetings:minutes_docx"))
    assert response["Content-Disposition"].endswith('"tracker-meeting-2026-03-02-minutes.docx"')
    text = docx_text(response)
    assert "Tracker meeting minutes: 2 March 2026" in text
    assert "Alice has settled back at school" in text
    assert "Rating confirmed: Red" in text
    assert "Visit Alice's school with her mum" in text and "Ms Wren" in text
    assert "16 March 2026" in text
    # Pat was on the agenda but not reached
    assert "Pat Pennant" in text and "Not reached" in text


# Consent withdrawn ------------------------------------------------------------------------


def test_a_withdrawn_persons_details_appear_nowhere_in_the_pack(coordinator, register):
    with on("2026-02-26"):
        document = docx_text(coordinator.get(at(register.meeting, "meetings:pack_docx")))
        page = page_text(coordinator.get(at(register.meeting, "meetings:pack")))
    for text in (document, page):
        for detail in wendy_details(register.wendy):
            assert detail not in text, detail
        # she is there, as the stand-in, with her rating
        assert f"Restricted record {register.wendy.pk}" in text
        assert "the record is restricted" in text
    assert "Alice Ashby" in document and "Alice Ashby" in page  # the others are not


def test_a_withdrawn_persons_discussion_and_actions_stay_out_of_the_minutes(coordinator, finished):
    document = docx_text(coordinator.get(at(finished.meeting, "meetings:minutes_docx")))
    page = page_text(coordinator.get(at(finished.meeting, "meetings:minutes")))
    for text in (document, page):
        for detail in wendy_details(finished.wendy):
            assert detail not in text, detail
        assert f"Restricted record {finished.wendy.pk}" in text
        assert "Alice has settled back at school" in text


# Partners ---------------------------------------------------------------------------------


def test_a_partners_pack_holds_only_their_networks_people(client_for, register):
    partner = client_for(Role.PARTNER)
    with on("2026-02-26"):
        document = docx_text(partner.get(at(register.meeting, "meetings:pack_docx")))
        page = page_text(partner.get(at(register.meeting, "meetings:pack")))
    live = AgendaItem.objects.filter(meeting=register.meeting, removed=False).count()
    for text in (document, page):
        assert "Pat Pennant" in text
        for outside in ("Alice", "Ashby", "Restricted record", "Referral received", "Dr Owl"):
            assert outside not in text, outside
        assert f"{live - 1} other agenda items are not included" in text


def test_a_partners_minutes_hold_only_their_networks_people(client_for, finished):
    partner = client_for(Role.PARTNER)
    text = docx_text(partner.get(at(finished.meeting, "meetings:minutes_docx")))
    assert "Pat Pennant" in text
    assert "Alice" not in text and "Restricted record" not in text
    assert "3 other agenda items are not included" in text


# The audit trail --------------------------------------------------------------------------


def downloads(client, url):
    """The audit events one request wrote."""
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = client.get(url)
    assert response.status_code == 200
    return list(AuditEvent.objects.filter(id__gt=before).order_by("id"))


@pytest.mark.parametrize("route", ["meetings:pack_docx", "meetings:pack"])
def test_each_pack_download_is_one_exported_event_naming_everyone_in_it(
    coordinator, register, route
):
    with on("2026-02-26"):
        written = downloads(coordinator, at(register.meeting, route))
    assert [e.action for e in written] == ["exported"]
    event = written[0]
    everyone = sorted([register.alice.pk, register.wendy.pk, register.pat.pk])
    assert event.changes["shown"] == everyone
    assert sorted(AuditShown.objects.filter(event=event).values_list("person_id", flat=True)) == (
        everyone
    )
    # the referral's item is named too, though it is about no one on the register yet
    items = AgendaItem.objects.filter(meeting=register.meeting, removed=False)
    for item in items:
        assert f"AgendaItem:{item.pk}" in event.changes["records"]
    assert not any(e.action in READS for e in written)


@pytest.mark.parametrize("route", ["meetings:minutes_docx", "meetings:minutes"])
def test_each_minutes_download_is_one_exported_event(client_for, finished, route):
    written = downloads(client_for(Role.PARTNER), at(finished.meeting, route))
    assert [e.action for e in written] == ["exported"]
    assert written[0].changes["shown"] == [finished.pat.pk]


# What may not be had ----------------------------------------------------------------------


def test_the_minutes_are_refused_before_the_meeting_has_finished(coordinator, register):
    with on("2026-03-02"):
        start(register.meeting)
        before = AuditEvent.objects.count()
        document = coordinator.get(at(register.meeting, "meetings:minutes_docx"))
        page = coordinator.get(at(register.meeting, "meetings:minutes"))
    assert document.status_code == 404
    assert page.status_code == 404
    assert "The minutes are ready once the meeting has finished" in page.content.decode()
    assert not AuditEvent.objects.filter(action="exported").exists()
    assert AuditEvent.objects.count() == before


def test_the_pack_is_refused_before_the_agenda_is_prepared(coordinator, place_a):
    with on("2026-02-20"):
        factories.make_person(place_a, rating="R")
        meeting = schedule(place_a, MEETING)
        assert coordinator.get(at(meeting, "meetings:pack_docx")).status_code == 404
        page = coordinator.get(at(meeting, "meetings:pack"))
    assert page.status_code == 404
    assert "once the agenda has been prepared" in page.content.decode()
    assert not AuditEvent.objects.filter(action="exported").exists()


def test_another_places_meeting_answers_404(coordinator, client_for, register, place_a, place_b):
    with on("2026-02-25"):
        theirs = prepared(place_b, MEETING)
    for route in ("meetings:pack", "meetings:pack_docx", "meetings:minutes_docx"):
        # place B's meeting asked for within place A
        assert coordinator.get(url_in(place_a.pk, route, theirs.pk)).status_code == 404
        # and place A's meeting, by someone of place B only
        assert client_for("outsider").get(at(register.meeting, route)).status_code == 404
    assert not AuditEvent.objects.filter(action="exported").exists()


def test_nothing_written_about_a_withdrawn_person_enters_the_pack_at_all(cast, finished):
    """Not only hidden by the page and the document: the pack's own data hold none of it."""
    finished.meeting.refresh_from_db()
    membership = factories.membership(cast[Role.COORDINATOR], finished.meeting.place)
    viewer = Viewer.acting_for(membership, label="test")
    for built in (
        pack.build_pack(viewer, finished.meeting, purpose="test"),
        pack.build_minutes(viewer, finished.meeting, purpose="test"),
    ):
        restricted = [entry for entry in built.entries if entry.restricted]
        assert [entry.title for entry in restricted] == [f"Restricted record {finished.wendy.pk}"]
        everything = repr(built)
        for detail in wendy_details(finished.wendy):
            assert detail not in everything, detail


# The printable page -----------------------------------------------------------------------


def test_the_printable_pack_is_marked_and_links_to_the_word_file(coordinator, register):
    with on("2026-02-26"):
        body = page_text(coordinator.get(at(register.meeting, "meetings:pack")))
    assert body.count("OFFICIAL-SENSITIVE") == 2
    assert re.search(r'id="marking-top".*<h1.*id="marking-bottom"', body, re.S)
    assert at(register.meeting, "meetings:pack_docx") in body
    assert body.count("<h1") == 1
    assert body.count('class="dsr-pack-item"') == 4
    assert "style=" not in body and "<script>" not in body  # the CSP allows neither


def test_printing_hides_the_service_chrome_and_starts_each_person_on_a_new_page():
    css = CSS.read_text()
    block = css[css.index("@media print") :]
    assert re.search(r"\.dsr-pack-item \{[^}]*break-before: page", block)
    for hidden in (".nhsuk-header", ".nhsuk-footer", ".nhsuk-back-link", ".nhsuk-button"):
        assert hidden in block.split("display: none")[0]


# Speed ------------------------------------------------------------------------------------


def test_the_pack_and_minutes_take_as_many_queries_for_40_people_as_for_5(
    cast, coordinator, place_a
):
    def people(n: int) -> None:
        for _ in range(n):
            person = factories.make_person(place_a, rating="R")
            actions.open_action(
                person=person,
                description="Follow up",
                due_on=date(2026, 3, 9),
                source="other",
                owner_user=cast[Role.KEYWORKER],
                by=SYSTEM,
            )

    def held(meeting, day: date) -> None:
        start(meeting)
        for item in AgendaItem.objects.filter(meeting=meeting).select_related("person"):
            confirm(
                meeting,
                item.person,
                next_review_on=day,
                agreed=[AgreedAction(description="Ring", due_on=day, owner_name="Ms Wren")],
            )
        finish(meeting)

    with on("2026-01-05"):
        prepared(place_a, date(2026, 1, 12))
    with on("2026-01-20"):
        people(5)
        few = prepared(place_a, LAST)
    with on("2026-02-02"):
        held(few, date(2026, 2, 9))
    with on("2026-02-20"):
        people(35)
        many = prepared(place_a, MEETING)
    with on("2026-03-02"):
        held(many, date(2026, 3, 9))
    assert AgendaItem.objects.filter(meeting=many).count() == 40
    routes = ("meetings:pack", "meetings:pack_docx", "meetings:minutes", "meetings:minutes_docx")
    counts = {}
    with on("2026-03-03"):
        coordinator.get(at(few, "meetings:pack"))  # the session's first page
        for name, meeting in (("few", few), ("many", many)):
            for route in routes:
                counts[name, route] = count_queries(lambda: coordinator.get(at(meeting, route)))
    for route in routes:
        assert counts["few", route] == counts["many", route], route
        assert counts["many", route] <= 30, route


def test_a_long_pack_prints_fifty_people_a_page_and_the_word_document_holds_them_all(
    coordinator, place_a
):
    with on("2026-01-20"):
        prepared(place_a, LAST)
    with on("2026-02-20"):
        for _ in range(120):
            factories.make_person(place_a, rating="R")
        meeting = prepared(place_a, MEETING)
    order = list(
        AgendaItem.objects.filter(meeting=meeting, removed=False)
        .order_by("position", "id")
        .values_list("person_id", flat=True)
    )
    assert len(order) == 120

    def exported(route, **query):
        before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        response = coordinator.get(at(meeting, route), query)
        event = AuditEvent.objects.get(id__gt=before, action="exported")
        shown = set(AuditShown.objects.filter(event=event).values_list("person_id", flat=True))
        return response, shown

    with on("2026-02-26"):
        response, shown = exported("meetings:pack")
        body = html.unescape(response.content.decode())
        assert "This page holds items 1 to 50 of 120" in body
        assert "part 1 of 3; the Word document holds them all" in body
        assert shown == set(order[:50])
        assert "From the last meeting (2 February 2026)" in body
        response, shown = exported("meetings:pack", page="3")
        body = html.unescape(response.content.decode())
        assert "This page holds items 101 to 120 of 120" in body
        assert "From the last meeting" not in body  # the first part has it
        assert '<ol class="nhsuk-list nhsuk-list--number" id="agenda-list" start="101">' in body
        assert re.search(r">\s*101\. ", body)  # numbered as in the whole pack
        assert shown == set(order[100:])
        response, shown = exported("meetings:pack_docx")
        assert shown == set(order)
        assert "120. " in docx_text(response)
