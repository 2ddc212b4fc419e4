"""How the register writes dates, ages and its tags: the pieces the templates use (through
config/jinja2.py) and the register's rows written in Python use (register/rows.py)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from django.utils import timezone
from markupsafe import Markup, escape

from dsr.core import dates


def format_date(value: date | datetime | None, fmt: str = "%-d %B %Y") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime(fmt)
    return _date_text(value, fmt)


@lru_cache(maxsize=4096)
def _date_text(value: date, fmt: str) -> str:
    """A date as text: a page writes dozens, and the same ones page after page."""
    return value.strftime(fmt)


def days_ago(day: date) -> str:
    days = (dates.today() - day).days
    return {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")


def working_days_ago(days: int, since: date) -> str:
    """A referral's age: "today", or in working days (a weekend does not count)."""
    if since == dates.today():
        return "today"
    return f"{days} working day{'s' if days != 1 else ''} ago"


def age(value: date | None) -> str:
    if value is None:
        return ""
    years = dates.age_on(value, dates.today())
    return f"{years} year{'s' if years != 1 else ''}"


# The opening of a cell of an NHS responsive table, up to its heading's text: the rows the
# busiest tables write in Python (register/rows.py, referrals/rows.py, keywork/rows.py).
TABLE_CELL = (
    '<td class="nhsuk-table__cell">'
    '<span class="nhsuk-table-responsive__heading" aria-hidden="true">'
)

# Tags a page shows many times (a register page: twice a row), written in Python rather
# than as Jinja macros: a macro call costs far more than a function's (`make bench`).
RATING_TAG = {
    code: Markup('<strong class="nhsuk-tag nhsuk-tag--{}">{}</strong>').format(colour, name)
    for code, colour, name in [
        ("R", "red", "Red"),
        ("A", "orange", "Amber"),
        ("G", "green", "Green"),
        ("B", "blue", "Blue"),
    ]
}
NOT_RATED = Markup('<strong class="nhsuk-tag nhsuk-tag--grey">Not rated</strong>')


def rating_tag(code: str | None) -> Markup:
    return RATING_TAG.get(code or "", NOT_RATED)


OVERDUE = '<strong class="nhsuk-tag nhsuk-tag--red">Overdue</strong> <span class="dsr-nowrap">'
DUE_TODAY = Markup('<strong class="nhsuk-tag nhsuk-tag--orange">Due today</strong>')


def due_tag(day: date | None) -> Markup:
    """A due date, flagged when it is today or past. Written with an f-string of the escaped
    date rather than Markup.format: a register page asks for one a row, and format costs
    three times more (make bench)."""
    if day is None:
        return Markup("")
    days = (day - dates.today()).days
    if days < 0:
        return Markup(f"{OVERDUE}{escape(format_date(day))}</span>")  # noqa: S704 - escaped
    if days == 0:
        return DUE_TODAY
    return escape(format_date(day))
