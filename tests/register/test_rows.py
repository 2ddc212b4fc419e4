"""The register's rows written in Python (register/rows.py) are the rows the template wrote:
the Jinja loop they replaced is kept here, and both are rendered for people with every kind
of value a row can show: markup, quotes and accents in names, a preferred name, consent
withdrawn, transition flags, review now, closed, no NHS number, due dates past, today and to
come. Whitespace between tags apart, they must be the same."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.template import engines

from dsr.core import dates
from dsr.register.rows import register_rows

# The loop as list.jinja had it before register/rows.py.
TEMPLATE = (Path(__file__).parent / "register_rows.jinja").read_text()


def _normal(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


def person(pk: int, **values):
    today = dates.today()
    base = {
        "pk": pk,
        "family_name": "O’Brien",
        "given_name": "Siân",
        "preferred_name": "",
        "consent_state": "given",
        "current_rating": "A",
        "review_now": False,
        "status": "open",
        "review_due": today + timedelta(days=30),
        "date_of_birth": today - timedelta(days=365 * 15),
        "nhs_number": "9434765919",
    }
    base.update(values)
    status = base["status"]
    return SimpleNamespace(**base, get_status_display=lambda: status.title())


PEOPLE = [
    person(1),
    person(2, family_name="<script>alert(1)</script>", given_name='"Quoted" & Co'),
    person(3, preferred_name="Bea <b>", consent_state="withdrawn", review_now=True),
    person(4, status="closed", review_now=True, current_rating=None, nhs_number=""),
    person(5, review_due=dates.today(), nhs_number="943 476 5919"),
    person(6, review_due=dates.today() - timedelta(days=3), current_rating="R"),
    person(7, review_due=None, date_of_birth=dates.today() - timedelta(days=365 * 24)),
]
FLAGS = {1: [SimpleNamespace(label="Turning 18")], 3: [SimpleNamespace(label="A <b> & c")]}


@pytest.mark.parametrize("who", range(len(PEOPLE)))
def test_each_row_is_the_templates_row(who, rf):
    env = engines["jinja2"].env
    request = rf.get("/")
    request.place = SimpleNamespace(pk=42)
    shown = [PEOPLE[who]]
    expected = env.from_string(TEMPLATE).render(shown=shown, flags=FLAGS, request=request)
    assert _normal(str(register_rows(shown, FLAGS, 42))) == _normal(expected)


def test_all_rows_together_and_none(rf):
    env = engines["jinja2"].env
    request = rf.get("/")
    request.place = SimpleNamespace(pk=42)
    expected = env.from_string(TEMPLATE).render(shown=PEOPLE, flags=FLAGS, request=request)
    assert _normal(str(register_rows(PEOPLE, FLAGS, 42))) == _normal(expected)
    assert "&lt;SCRIPT&gt;ALERT(1)&lt;/SCRIPT&gt;" in str(register_rows(PEOPLE, FLAGS, 42))
    assert str(register_rows([], FLAGS, 42)) == ""
