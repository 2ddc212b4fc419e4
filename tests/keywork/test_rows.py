"""A caseload's rows written in Python (keywork/rows.py) are the rows the template wrote: the
Jinja loop they replaced is kept here (caseload_rows.jinja), and both are rendered for
allocations with every kind of value a row can show: markup, quotes and accents in names,
every rating and none, not eligible, never contacted, contacted today, yesterday and long ago,
contact due, due today and overdue. Whitespace between tags apart, they must be the same."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.template import engines

from dsr.core import dates
from dsr.keywork.rows import caseload_rows
from tests.register.test_rows import _normal

TEMPLATE = (Path(__file__).parent / "caseload_rows.jinja").read_text()
TODAY = dates.today()


def allocation(pk: int, *, person=None, **values):
    who = {
        "pk": pk,
        "family_name": "O’Brien",
        "given_name": "Siân",
        "date_of_birth": TODAY - timedelta(days=365 * 15),
        "current_rating": "A",
        **(person or {}),
    }
    base = {
        "person": SimpleNamespace(**who),
        "started_on": TODAY - timedelta(days=90),
        "last_contact_on": TODAY - timedelta(days=10),
        "contact_due": TODAY + timedelta(days=18),
        "eligible": True,
    }
    base.update(values)
    return SimpleNamespace(**base)


ROWS = [
    allocation(1),
    allocation(2, person={"family_name": "<script>x</script>", "given_name": '"Q" & Co'}),
    allocation(3, person={"current_rating": None}, eligible=False, last_contact_on=None),
    allocation(4, person={"current_rating": "R"}, last_contact_on=TODAY, contact_due=TODAY),
    allocation(5, person={"current_rating": "G"}, eligible=False),
    allocation(6, last_contact_on=TODAY - timedelta(days=1)),
    allocation(7, person={"current_rating": "B"}, contact_due=TODAY - timedelta(days=4)),
]


def _template(shown, rf) -> str:
    request = rf.get("/")
    request.place = SimpleNamespace(pk=42)
    return engines["jinja2"].env.from_string(TEMPLATE).render(rows=shown, request=request)


@pytest.mark.parametrize("which", range(len(ROWS)))
def test_each_row_is_the_templates_row(which, rf):
    shown = [ROWS[which]]
    assert _normal(str(caseload_rows(shown, 42))) == _normal(_template(shown, rf))


def test_all_rows_together_and_none(rf):
    html = str(caseload_rows(ROWS, 42))
    assert _normal(html) == _normal(_template(ROWS, rf))
    assert "&lt;SCRIPT&gt;X&lt;/SCRIPT&gt;" in html and "<script>" not in html
    assert 'href="/places/42/people/3/"' in html and "None yet" in html
    assert str(caseload_rows([], 42)) == ""
