"""A tracker meeting's pack or minutes as a Word document, built in memory: python-docx's
default template (its styles, the page header and footer), the body written as
WordprocessingML text.

Drawn from a `pack.Pack` after its audited read has ended: nothing here reads the database
or touches a file. Marked OFFICIAL-SENSITIVE in the page header and footer and at the top
(Government Security Classifications: personal health and care data); one section per
person, each starting on a new page; actions as tables.
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from django.http import HttpResponse
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from dsr.core import nhs_number
from dsr.meetings.pack import MARKING, RESTRICTED_NOTE, ActionLine, Entry, Pack, rating_label

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@functools.lru_cache(maxsize=1024)  # a pack's dates repeat: strftime was 4% of its writing
def _on(day: date | None) -> str:
    return f"{day:%-d %B %Y}" if day else "Not recorded"


def _marking(paragraph: Any) -> None:
    paragraph.text = ""
    run = paragraph.add_run(MARKING)
    run.bold = True
    run.font.size = Pt(12)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


# Characters XML 1.0 cannot hold (control characters pasted from other systems): dropped,
# as a Word document cannot carry them. Named as the few it excludes, not the ranges it
# allows: the allowed ranges' class, negated, took four times as long to search (a Word
# pack at national scale checks 31,000 texts) and finds the same characters
# (tests/meetings/test_word.py holds it and SPECIAL to XML 1.0's Char, each code point).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
LINE_BREAK = re.compile("\r\n|\r|\n")
# What _text must change: the markup's own characters, tabs, line breaks and NOT_XML (one
# class: every control character). Anything else (most of a pack's text) goes in as it is.
SPECIAL = re.compile("[&<>\x00-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(text: str) -> str:
    """A run's text as WordprocessingML: escaped, line breaks and tabs as Word's own."""
    if SPECIAL.search(text) is None:
        return f'<w:t xml:space="preserve">{text}</w:t>'
    clean = escape(NOT_XML.sub("", text))
    parts = (
        f'<w:t xml:space="preserve">{piece}</w:t>'.replace(
            "\t", '</w:t><w:tab/><w:t xml:space="preserve">'
        )
        for piece in LINE_BREAK.split(clean)
    )
    return "<w:br/>".join(parts)


def _run(text: str, *, bold: bool = False) -> str:
    return f"<w:r>{'<w:rPr><w:b/></w:rPr>' if bold else ''}{_text(text)}</w:r>"


@functools.lru_cache(maxsize=256)  # a fact's label: the same dozen in every person's part
def _label(key: str) -> str:
    return _run(f"{key}: ", bold=True)


class Writer:
    """The body as WordprocessingML text, put into the template's package as it is written
    out (`Template.package`). python-docx's objects took about 20 ms a person (a style
    looked up, the body scanned and a table's cells walked for each block): a pack of 1,550
    people outlasted the worker timeout (make bench); parsing the text into a tree to save
    it through python-docx held the whole document in memory twice."""

    def __init__(self, template: Template) -> None:
        self.ids = template.styles
        self.table_style = template.styles["Table Grid"]
        self.width = template.width
        self.blocks: list[str] = []

    def para(self, text: str = "", style: str = "", *, new_page: bool = False) -> None:
        props = f'<w:pStyle w:val="{self.ids[style]}"/>' if style else ""
        if new_page:
            props += "<w:pageBreakBefore/>"
        self.blocks.append(
            f"<w:p>{f'<w:pPr>{props}</w:pPr>' if props else ''}{_run(text) if text else ''}</w:p>"
        )

    def marking(self) -> None:
        self.blocks.append(
            '<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:rPr><w:b/>'
            f'<w:sz w:val="24"/></w:rPr>{_text(MARKING)}</w:r></w:p>'
        )

    def heading(self, text: str, level: int, *, new_page: bool = False) -> None:
        self.para(text, "Title" if level == 0 else f"Heading {level}", new_page=new_page)

    def table(self, caption: str, headings: Sequence[str], rows: list[list[str]]) -> None:
        self.para(caption, "Caption")
        column = self.width // len(headings)
        cell = f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{column}"/></w:tcPr><w:p>'
        grid = f'<w:gridCol w:w="{column}"/>' * len(headings)
        out = [
            f'<w:tbl><w:tblPr><w:tblStyle w:val="{self.table_style}"/>'
            '<w:tblW w:type="auto" w:w="0"/><w:tblLook w:firstColumn="1" w:firstRow="1" '
            'w:lastColumn="0" w:lastRow="0" w:noHBand="0" w:noVBand="1" w:val="04A0"/>'
            f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid><w:tr>"
        ]
        out += [f"{cell}{_run(h, bold=True)}</w:p></w:tc>" for h in headings]
        out.append("</w:tr>")
        for values in rows:
            out.append("<w:tr>")
            out += [f"{cell}{_run(v) if v else ''}</w:p></w:tc>" for v in values]
            out.append("</w:tr>")
        out.append("</w:tbl>")
        self.blocks.append("".join(out))

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
            self.blocks.append(f"<w:p>{_label(key)}{_run(value or 'Not recorded')}</w:p>")


def _person(doc: Writer, entry: Entry, *, minutes: bool) -> None:
    doc.heading(f"{entry.number}. {entry.title}", level=1, new_page=True)
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


STYLES = ("Title", "Heading 1", "Heading 2", "List Bullet", "Caption", "Table Grid")
BODY = "DSR-BODY-GOES-HERE"
# Blocks compressed together: one write (and one call into zlib) a block was a third of a
# large pack's writing; a chunk's text stays small beside the blocks themselves.
CHUNK = 256
# zlib's fastest levels: a 1,550-person pack's 4.7 MB of XML compresses in 8 ms to 215 kB
# at 3, in 20 ms to 161 kB at zlib's default (6): a download's extra 50 kB costs less than
# the 12 ms every pack would wait (make bench's Word pack).
COMPRESS = 3


@dataclass(frozen=True)
class Template:
    """python-docx's default document, marked in its page header and footer, as the parts
    of its package; the body is a placeholder paragraph that each document replaces."""

    parts: list[tuple[zipfile.ZipInfo, bytes]]
    before: bytes  # word/document.xml up to the placeholder paragraph
    after: bytes  # and after it
    styles: dict[str, str]  # style name: id
    width: int  # the text block's width, in twentieths of a point

    def package(self, blocks: list[str]) -> bytes:
        out = BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS) as package:
            for info, data in self.parts:
                if info.filename == "word/document.xml":
                    with package.open(info.filename, "w") as body:
                        body.write(self.before)
                        for start in range(0, len(blocks), CHUNK):
                            body.write("".join(blocks[start : start + CHUNK]).encode())
                        body.write(self.after)
                else:
                    package.writestr(info, data)
        return out.getvalue()


@functools.cache
def template() -> Template:
    document = Document()
    section = document.sections[0]
    _marking(section.header.paragraphs[0])
    _marking(section.footer.paragraphs[0])
    document.add_paragraph(BODY)
    saved = BytesIO()
    document.save(saved)
    with zipfile.ZipFile(saved) as package:
        parts = [(info, package.read(info)) for info in package.infolist()]
    xml = dict((info.filename, data) for info, data in parts)["word/document.xml"]
    marker = xml.index(BODY.encode())
    start = xml.rindex(b"<w:p>", 0, marker)
    end = xml.index(b"</w:p>", marker) + len(b"</w:p>")
    return Template(
        parts=parts,
        before=xml[:start],
        after=xml[end:],
        styles={name: document.styles[name].style_id for name in STYLES},
        width=document._block_width.twips,
    )


def document_bytes(pack: Pack) -> bytes:
    doc = Writer(template())
    doc.marking()
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
    doc.marking()
    return template().package(doc.blocks)


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
