"""The referral queue's rows, written in Python as the register's are (register/rows.py): as a
Jinja loop they were most of the queue's template time (make bench; ADR 0030). Each value a
referral supplies is escaped; the rest is the NHS table markup the template had.
tests/referrals/test_rows.py holds them to that template, row for row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

from dsr.core.routing import url_in
from dsr.core.tags import TABLE_CELL, format_date, working_days_ago

STATUS_TAG = {
    "new": "nhsuk-tag--blue",
    "more_info": "nhsuk-tag--yellow",
    "accepted": "nhsuk-tag--green",
    "declined": "nhsuk-tag--grey",
}


def _first_contact(referral: Any) -> str:
    if referral.first_contact_on:
        return f'<span class="dsr-nowrap">{escape(format_date(referral.first_contact_on))}</span>'
    age = referral.age
    if not age:
        return "None recorded"
    due = escape(format_date(age["due"]))
    if age["overdue"]:
        return (
            '<strong class="nhsuk-tag nhsuk-tag--red">Overdue</strong>'
            f' <span class="dsr-nowrap">due {due}</span>'
        )
    return f'Due by <span class="dsr-nowrap">{due}</span>'


def queue_rows(referrals: Iterable[Any], place_id: int) -> Markup:
    """The <tr> of each referral (with its `age`: queue's age_of, or None), as the queue's
    table body shows them."""
    rows = []
    for r in referrals:
        href = escape(url_in(place_id, "referrals:detail", r.pk))
        organisation = (
            f'<br><span class="nhsuk-u-font-size-16">{escape(r.referrer_organisation)}</span>'
            if r.referrer_organisation
            else ""
        )
        waited = (
            '<br><span class="nhsuk-u-font-size-16">'
            f"{escape(working_days_ago(r.age['days'], r.received_on))}</span>"
            if r.age
            else ""
        )
        rows.append(
            '\n    <tr class="nhsuk-table__row">\n      '
            f'{TABLE_CELL}Reference </span><a class="dsr-nowrap" href="{href}">'
            f"{escape(r.reference)}</a></td>\n      "
            f"{TABLE_CELL}Child or young person </span>{escape(r.family_name.upper())},"
            f' {escape(r.given_name)}<br><span class="nhsuk-u-font-size-16">Born'
            f" {escape(format_date(r.date_of_birth))}</span></td>\n      "
            f"{TABLE_CELL}From </span>{escape(r.get_source_display())}{organisation}</td>\n      "
            f'{TABLE_CELL}Received </span><span class="dsr-nowrap">'
            f"{escape(format_date(r.received_on))}</span>{waited}</td>\n      "
            f"{TABLE_CELL}First contact </span>{_first_contact(r)}</td>\n      "
            f'{TABLE_CELL}Status </span><strong class="nhsuk-tag {STATUS_TAG.get(r.status, "")}">'
            f"{escape(r.get_status_display())}</strong></td>\n    </tr>"
        )
    return Markup("".join(rows))  # noqa: S704 - every value from the record is escaped above
