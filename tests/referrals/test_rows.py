"""The referral queue's rows written in Python (referrals/rows.py) are the rows the template
wrote: the Jinja loop they replaced is kept here (queue_rows.jinja), and both are rendered for
referrals with every kind of value a row can show: markup, quotes and accents in names and
organisations, no organisation, every status, first contact made, overdue, due, received
today. Whitespace between tags apart, they must be the same."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.template import engines

from dsr.core import dates
from dsr.referrals.rows import queue_rows
from tests.register.test_rows import _normal

TEMPLATE = (Path(__file__).parent / "queue_rows.jinja").read_text()
LABELS = {"new": "New", "more_info": "Waiting for more information", "accepted": "Accepted"}


def referral(pk: int, **values):
    today = dates.today()
    base = {
        "pk": pk,
        "reference": "R-7K3M-9QX2",
        "family_name": "O’Brien",
        "given_name": "Siân",
        "date_of_birth": today - timedelta(days=365 * 15),
        "source": "professional",
        "referrer_organisation": "CAMHS North",
        "received_on": today - timedelta(days=6),
        "first_contact_on": None,
        "status": "new",
        "age": {"days": 4, "due": today + timedelta(days=2), "overdue": False},
    }
    base.update(values)
    status, source = base["status"], base["source"]
    return SimpleNamespace(
        **base,
        get_status_display=lambda: LABELS.get(status, status.title()),
        get_source_display=lambda: f"{source.title()} <&>",
    )


TODAY = dates.today()
REFERRALS = [
    referral(1),
    referral(2, family_name="<script>alert(1)</script>", given_name='"Quoted" & Co'),
    referral(3, referrer_organisation="", status="more_info", source="parent"),
    referral(4, referrer_organisation="St Mary’s <b>&amp;</b>", reference="R-<b>"),
    referral(5, age={"days": 9, "due": TODAY - timedelta(days=3), "overdue": True}, status="new"),
    referral(6, first_contact_on=TODAY - timedelta(days=1), status="accepted", age=None),
    referral(7, status="declined", age=None),
    referral(8, received_on=TODAY, age={"days": 0, "due": TODAY, "overdue": False}),
    referral(9, age={"days": 1, "due": TODAY, "overdue": False}),
]


def _template(shown, rf) -> str:
    request = rf.get("/")
    request.place = SimpleNamespace(pk=42)
    return (
        engines["jinja2"].env.from_string(TEMPLATE).render(rows=shown, shown=shown, request=request)
    )


@pytest.mark.parametrize("which", range(len(REFERRALS)))
def test_each_row_is_the_templates_row(which, rf):
    shown = [REFERRALS[which]]
    assert _normal(str(queue_rows(shown, 42))) == _normal(_template(shown, rf))


def test_all_rows_together_and_none(rf):
    html = str(queue_rows(REFERRALS, 42))
    assert _normal(html) == _normal(_template(REFERRALS, rf))
    assert "&lt;SCRIPT&gt;ALERT(1)&lt;/SCRIPT&gt;" in html and "<b>" not in html
    assert 'href="/places/42/referrals/4/"' in html
    assert str(queue_rows([], 42)) == ""
