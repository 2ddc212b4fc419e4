"""The tags the register's rows are written with (core/tags.py), markup exactly."""

from __future__ import annotations

from datetime import timedelta

from markupsafe import Markup

from dsr.core import dates
from dsr.core.tags import due_tag, rating_tag


def test_a_due_date_is_flagged_overdue_or_due_today_and_shown_escaped():
    today = dates.today()
    past, future = today - timedelta(days=3), today + timedelta(days=40)
    assert due_tag(None) == Markup("")
    assert due_tag(past) == Markup(
        '<strong class="nhsuk-tag nhsuk-tag--red">Overdue</strong> '
        f'<span class="dsr-nowrap">{past.strftime("%-d %B %Y")}</span>'
    )
    assert due_tag(today) == Markup(
        '<strong class="nhsuk-tag nhsuk-tag--orange">Due today</strong>'
    )
    assert due_tag(future) == Markup(future.strftime("%-d %B %Y"))
    assert all(isinstance(due_tag(d), Markup) for d in (None, past, today, future))


def test_a_rating_is_a_coloured_tag():
    assert rating_tag("A") == Markup('<strong class="nhsuk-tag nhsuk-tag--orange">Amber</strong>')
    assert (
        rating_tag(None)
        == rating_tag("?")
        == Markup('<strong class="nhsuk-tag nhsuk-tag--grey">Not rated</strong>')
    )
