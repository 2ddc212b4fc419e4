"""A tracker meeting's pack or minutes as a Word document (python-docx), built in memory.

Drawn from a `pack.Pack` after its audited read has ended: nothing here reads the database
or touches a file. Marked OFFICIAL-SENSITIVE in the page header and footer and at the top
(Government Security Classifications: personal health and care data); one section per
person, each starting on a new page; actions as tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from io import BytesIO
from typing import Any

from django.http import HttpResponse
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.table import CT_Tbl
from docx.shared import Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from dsr.core import nhs_number
from dsr.meetings.pack import MARKING, RESTRICTED_NOTE, ActionLine, Entry, Pack, rating_label

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _on(day: date | None) -> str:
    return f"{day:%-d %B %Y}" if day else "Not recorded"


def _marking(paragraph: Any) -> None:
    paragraph.text = ""
    run = paragraph.add_run(MARKING)
    run.bold = True
    run.font.size = Pt(12)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


class Writer:
    """Paragraphs, headings and tables in named styles. python-docx looks a style up by
    name (and checks it against the default) on every paragraph, a walk over every style in
    the document each time: a 200-person pack took 4 s. The ids are looked up once here."""

    STYLES = ("Title", "Heading 1", "Heading 2", "List Bullet", "Caption")

    def __init__(self, document: Any) -> None:
        self.document = document
        self.ids = {name: document.styles[name].style_id for name in self.STYLES}
        self.table_style = document.styles["Table Grid"].style_id
        # New blocks go just before the body's closing section properties. python-docx's
        # own add_paragraph / add_table find that place by scanning the whole body each
        # time: a pack of 1,500 people took longer than a request may (make bench).
        self.body = document._body
        self.end = document.element.body.sectPr

    def _append(self, element: Any) -> Any:
        self.end.addprevious(element)
        return element

    def para(self, text: str = "", style: str = "") -> Any:
        paragraph = Paragraph(self._append(OxmlElement("w:p")), self.body)
        if text:
            paragraph.add_run(text)
        if style:
            paragraph._p.get_or_add_pPr().style = self.ids[style]
        return paragraph

    def heading(self, text: str, level: int) -> Any:
        return self.para(text, "Title" if level == 0 else f"Heading {level}")

    def table(self, caption: str, headings: Sequence[str], rows: list[list[str]]) -> None:
        self.para(caption, "Caption")
        width = self.document._block_width
        table = Table(self._append(CT_Tbl.new_tbl(1, len(headings), width)), self.body)
        table._tbl.tblStyle_val = self.table_style
        for cell, heading in zip(table.rows[0].cells, headings, strict=True):
            cell.paragraphs[0].add_run(heading).bold = True
        for values in rows:
            for cell, value in zip(table.add_row().cells, values, strict=True):
                cell.text = value

    def action_table(self, caption: str, actions: list[ActionLine], *, about: bool) -> None:
        headings = ["About"] if about else []
        headings += ["Action", "Owner", "Due", "Status"]
        rows = [
            ([a.about] if about else []) + [a.description, a.owner, _on(a.due_on), a.status]
            for a in actions
        ]
        self.table(caption, headings, rows)

    def facts(self, facts: list[tuple[str, str]]) -> None:
        for key, value in facts:
            paragraph = self.para()
            paragraph.add_run(f"{key}: ").bold = True
            paragraph.add_run(value or "Not recorded")


def _person(doc: Writer, entry: Entry, *, minutes: bool) -> None:
    heading = doc.heading(f"{entry.number}. {entry.title}", level=1)
    heading.paragraph_format.page_break_before = True
    if entry.is_referral:
        doc.facts(
            [
                ("Referral received", _on(entry.referral_received_on)),
                ("Status", entry.referral_status),
            ],
        )
    elif entry.restricted:
        doc.para(RESTRICTED_NOTE)
        if not (entry.decision and entry.decision.rating):  # the minutes give the decided one
            doc.facts([("Current rating", rating_label(entry.rating))])
    else:
        doc.heading("Why they are on the agenda", level=2)
        for reason in entry.reasons:
            doc.para(reason, "List Bullet")
    if entry.summary is not None:
        _summary(doc, entry)
    if minutes and entry.decision is not None:
        _decision(doc, entry)


def _summary(doc: Writer, entry: Entry) -> None:
    summary = entry.summary
    assert summary is not None
    doc.heading("Summary", level=2)
    rated = rating_label(entry.rating)
    if summary.rated_on:
        rated += f" since {_on(summary.rated_on)}"
    facts = [
        ("Date of birth", _on(summary.born)),
        ("NHS number", _nhs(summary.nhs_number)),
        ("Current rating", rated),
        ("Review due", _on(summary.review_due)),
        ("Accommodation", summary.accommodation),
        ("Keyworker", summary.keyworker or "None allocated"),
        ("Key safety information", summary.key_safety_information),
        ("Communication needs", summary.communication_needs),
    ]
    if summary.stay is not None:
        facts.append(("In hospital", summary.stay.line))
    doc.facts(facts)
    if summary.open_actions:
        doc.action_table(f"Open actions for {entry.title}", summary.open_actions, about=False)
    else:
        doc.para("No open actions.")


def _decision(doc: Writer, entry: Entry) -> None:
    decision = entry.decision
    assert decision is not None
    doc.heading("What the meeting decided", level=2)
    if not decision.discussed:
        doc.para("Not reached: carried to the next meeting.")
        return
    facts = []
    if not entry.restricted:
        facts.append(("Discussion", decision.notes))
    if not entry.is_referral:
        outcome = decision.outcome
        if decision.rating:
            outcome += f": {rating_label(decision.rating)}"
        facts += [("Outcome", outcome), ("Next review", _on(decision.next_review_on))]
    doc.facts(facts)
    if entry.restricted or entry.is_referral:
        return
    if decision.agreed:
        doc.action_table(f"Actions agreed for {entry.title}", decision.agreed, about=False)
    else:
        doc.para("No actions agreed.")


def _nhs(number: str) -> str:
    return nhs_number.display(number) if number else ""


def document_bytes(pack: Pack) -> bytes:
    document = Document()
    doc = Writer(document)
    section = document.sections[0]
    _marking(section.header.paragraphs[0])
    _marking(section.footer.paragraphs[0])
    _marking(doc.para())
    doc.heading(f"{pack.title}: {_on(pack.held_on)}", level=0)
    doc.facts(
        [
            ("Place", pack.place),
            ("Date", _on(pack.held_on)),
            ("Venue", pack.venue),
            ("Chair", pack.chair),
            ("Minute-taker", pack.minute_taker),
        ],
    )
    if pack.withheld:
        noun = "item is" if pack.withheld == 1 else "items are"
        doc.para(
            f"{pack.withheld} other agenda {noun} not included in your copy: they are "
            "about people or referrals your role or care network does not give you."
        )
    doc.heading("Attendees", level=1)
    if pack.attendees:
        doc.table(
            f"{len(pack.present)} present, {len(pack.absent)} absent",
            ["Name", "Attendance"],
            [[a.label, "Absent" if a.absent else "Present"] for a in pack.attendees],
        )
    else:
        doc.para("No attendees recorded.")
    if not pack.is_minutes and pack.previous_held_on is not None:
        _previous(doc, pack)
    doc.heading("Agenda" if not pack.is_minutes else "Items discussed", level=1)
    if not pack.entries:
        doc.para("No items on the agenda.")
    for entry in pack.entries:
        doc.para(f"{entry.number}. {entry.title}")
    for entry in pack.entries:
        _person(doc, entry, minutes=pack.is_minutes)
    _marking(doc.para())
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _previous(doc: Writer, pack: Pack) -> None:
    doc.heading(f"From the last meeting ({_on(pack.previous_held_on)})", level=1)
    if pack.previous_decisions:
        doc.table(
            "What the last meeting decided",
            ["Person", "Outcome", "Rating", "Next review"],
            [
                [d.title, d.outcome, rating_label(d.rating), _on(d.next_review_on)]
                for d in pack.previous_decisions
            ],
        )
    else:
        doc.para("The last meeting recorded no decisions you may see.")
    if pack.previous_actions:
        doc.action_table(
            "Actions agreed at the last meeting, still open",
            pack.previous_actions,
            about=True,
        )
    else:
        doc.para("No actions from the last meeting are still open.")


def response(pack: Pack) -> HttpResponse:
    """The document as a download."""
    reply = HttpResponse(document_bytes(pack), content_type=CONTENT_TYPE)
    reply["Content-Disposition"] = f'attachment; filename="{pack.filename}"'
    return reply
