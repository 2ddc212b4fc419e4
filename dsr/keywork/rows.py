"""A keyworker's caseload rows, written in Python as the register's and the referral queue's
are (register/rows.py, referrals/rows.py; ADR 0030). Each value a record supplies is escaped;
the rest is the NHS table markup the template had. tests/keywork/test_rows.py holds them to
that template, row for row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

from dsr.core.routing import url_in
from dsr.core.tags import TABLE_CELL, days_ago, due_tag, format_date, rating_tag

NOT_ELIGIBLE = ' <strong class="nhsuk-tag nhsuk-tag--grey">Not eligible now</strong>'


def caseload_rows(rows: Iterable[Any], place_id: int) -> Markup:
    """The <tr> of each allocation (with the view's `eligible` and `contact_due`), as the
    caseload's table body shows them."""
    out = []
    for row in rows:
        person = row.person
        href = escape(url_in(place_id, "register:person", person.pk))
        contacted = row.last_contact_on
        last = (
            f'<span class="dsr-nowrap">{escape(format_date(contacted))}</span>'
            f" ({escape(days_ago(contacted))})"
            if contacted
            else "None yet"
        )
        out.append(
            '\n    <tr class="nhsuk-table__row">\n      '
            f'{TABLE_CELL}Person </span><a href="{href}">{escape(person.family_name.upper())},'
            f' {escape(person.given_name)}</a><br><span class="nhsuk-u-font-size-16">Born'
            f" {escape(format_date(person.date_of_birth))}</span></td>\n      "
            f"{TABLE_CELL}Rating </span>{rating_tag(person.current_rating)}"
            f"{'' if row.eligible else NOT_ELIGIBLE}</td>\n      "
            f'{TABLE_CELL}Keyworker since </span><span class="dsr-nowrap">'
            f"{escape(format_date(row.started_on))}</span></td>\n      "
            f"{TABLE_CELL}Last contact </span>{last}</td>\n      "
            f"{TABLE_CELL}Next contact due </span>{due_tag(row.contact_due)}</td>\n    </tr>"
        )
    return Markup("".join(out))  # noqa: S704 - every value from the record is escaped above
