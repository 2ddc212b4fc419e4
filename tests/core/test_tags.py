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


def test_dates_are_written_the_same_however_often_asked():
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from dsr.core.tags import format_date

    days = [date(2024, 2, 29), date(2026, 12, 1), date(1999, 1, 9)]
    for _ in range(2):  # the second time from the kept table
        assert [format_date(d) for d in days] == [
            "29 February 2024",
            "1 December 2026",
            "9 January 1999",
        ]
        assert format_date(days[0], "%d/%m/%Y") == "29/02/2024"
    # A time is written in the register's time zone, never kept.
    late = datetime(2026, 6, 30, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert format_date(late) == "1 July 2026"
    assert format_date(None) == ""


def test_the_skip_link_is_the_nhs_components_own():
    from django.template import engines

    env = engines["jinja2"].env
    expected = env.from_string(
        '{% from "nhsuk/components/skip-link/macro.jinja" import skipLink %}'
        '{{ skipLink({"href": "#maincontent", "text": "Skip to main content"}) }}'
    ).render()
    page = env.from_string("{{ skip_link() }}").render()
    assert page == expected and 'href="#maincontent"' in page
