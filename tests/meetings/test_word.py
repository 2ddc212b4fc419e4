"""The Word writer on its own (no database): what people type reaches the document as they
typed it, or as near as Word can hold it, and a document of any size opens in Word's model
(python-docx reads it back)."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from docx import Document

from dsr.meetings import pack, word

ODD = 'Zoë O’Brien-Núñez, ٣ ٤ ٥ digits; <b>not bold</b> & "quoted"'


def _pack(entries: list[pack.Entry], **extra) -> pack.Pack:
    return pack.Pack(
        kind=pack.PACK,
        meeting_id=1,
        held_on=date(2026, 3, 2),
        place="Northbridge",
        venue="Room 4 & the annexe",
        chair="Chair",
        minute_taker="Minutes",
        status="preparing",
        attendees=[pack.Attending(label=ODD, absent=False)],
        entries=entries,
        withheld=0,
        seen=len(entries),
        **extra,
    )


def _entry(number: int, safety: str = "Frightened of dogs") -> pack.Entry:
    action = pack.ActionLine(
        description=f"Call the GP\nthen the school ({number})",
        owner="Dr Owl",
        due_on=date(2026, 3, 9),
        status="Open",
    )
    summary = pack.Summary(
        born=date(2013, 7, 14),
        nhs_number="9434765919",
        rated_on=date(2026, 2, 2),
        review_due=date(2026, 4, 2),
        accommodation="Family home",
        keyworker="",
        key_safety_information=safety,
        communication_needs="Uses Makaton\tsigns",
        open_actions=[action],
        stay=None,
    )
    return pack.Entry(
        number=number,
        title=f"Person {number}",
        restricted=False,
        is_referral=False,
        rating="red",
        reasons=["Rated Red", "An action is overdue"],
        summary=summary,
    )


def _read(pack_: pack.Pack):
    return Document(BytesIO(word.document_bytes(pack_)))


def _text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    parts += [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join(parts)


def test_accents_non_ascii_digits_and_markup_reach_the_document_as_typed():
    text = _text(_read(_pack([_entry(1, safety=ODD)])))
    assert f"Key safety information: {ODD}" in text
    assert ODD in text  # the attendee, in the attendance table
    assert "Venue: Room 4 & the annexe" in text


def test_line_breaks_and_tabs_are_words_own():
    document = _read(_pack([_entry(1)]))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "Call the GP\nthen the school (1)" in cells
    assert "Communication needs: Uses Makaton\tsigns" in _text(document)


def test_control_characters_a_document_cannot_hold_are_dropped_not_a_failure():
    text = _text(_read(_pack([_entry(1, safety="bell\x07 null\x00 vt\x0b ok")])))
    assert "Key safety information: bell null vt ok" in text


def _xml_char(code: int) -> bool:
    """XML 1.0's Char production (section 2.2), as the standard writes it."""
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def test_the_characters_dropped_and_changed_are_exactly_those_xml_and_word_call_for():
    for code in range(0x110000):
        char = chr(code)
        assert (word.NOT_XML.search(char) is not None) is not _xml_char(code), hex(code)
        changed = char in "&<>\t\r\n" or not _xml_char(code)
        assert (word.SPECIAL.search(char) is not None) is changed, hex(code)


def test_ten_thousand_characters_are_kept_whole():
    long = "é" * 10_000
    assert f"Key safety information: {long}" in _text(_read(_pack([_entry(1, safety=long)])))


def test_each_person_is_a_heading_on_a_new_page_with_their_actions_as_a_table():
    document = _read(_pack([_entry(n) for n in range(1, 4)]))
    headings = [
        p.text
        for p in document.paragraphs
        if p.style.name == "Heading 1" and p.paragraph_format.page_break_before
    ]
    assert headings == ["1. Person 1", "2. Person 2", "3. Person 3"]
    tables = document.tables
    assert len(tables) == 1 + 3  # the attendees, then each person's open actions
    assert [c.text for c in tables[1].rows[0].cells] == ["Action", "Owner", "Due", "Status"]
    assert all(run.bold for c in tables[1].rows[0].cells for run in c.paragraphs[0].runs)
    assert tables[1].style.name == "Table Grid"
    assert [c.text for c in tables[1].rows[1].cells][1:] == ["Dr Owl", "9 March 2026", "Open"]


def test_the_marking_opens_and_closes_the_body_bold_and_centred():
    document = _read(_pack([_entry(1)]))
    for paragraph in (document.paragraphs[0], document.paragraphs[-1]):
        assert paragraph.text == pack.MARKING
        assert paragraph.alignment == 1  # centre
        assert all(run.bold for run in paragraph.runs)
