"""The register table's rows, written in Python: the register is the busiest page of all, and
as a Jinja loop its rows took about a third of the page (make bench; ADR 0029). Each value a
person's record supplies is escaped; the rest is the NHS table markup the template had.
tests/register/test_rows.py holds them to that template, row for row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from dsr.core import nhs_number
from dsr.core.routing import fast_reverse
from dsr.core.tags import TABLE_CELL as _CELL
from dsr.core.tags import age, due_tag, format_date, rating_tag

RESTRICTED = ' <strong class="nhsuk-tag nhsuk-tag--pink">Restricted</strong>'
REVIEW_NOW = ' <strong class="nhsuk-tag nhsuk-tag--yellow">Review now</strong>'


def register_rows(
    people: Iterable[Any], flags: Mapping[int, Sequence[Any]], place_id: int
) -> Markup:
    """The <tr> of each person, as the register's table body shows them."""
    rows = []
    for person in people:
        is_open = person.status == "open"
        name = f"{escape(person.family_name.upper())}, {escape(person.given_name)}"
        extra = (
            f' <span class="nhsuk-body-s">(“{escape(person.preferred_name)}”)</span>'
            if person.preferred_name
            else ""
        )
        if person.consent_state == "withdrawn":
            extra += RESTRICTED
        for flag in flags.get(person.pk, ()):
            extra += f' <strong class="nhsuk-tag nhsuk-tag--purple">{escape(flag.label)}</strong>'
        href = escape(fast_reverse("register:person", (place_id, person.pk)))
        number = nhs_number.display(person.nhs_number) if person.nhs_number else "Not known"
        born = person.date_of_birth
        rows.append(
            '\n    <tr class="nhsuk-table__row">\n      '
            f'{_CELL}Name </span><a href="{href}">{name}</a>{extra}</td>\n      '
            f"{_CELL}Rating </span>{rating_tag(person.current_rating)}"
            f"{REVIEW_NOW if person.review_now and is_open else ''}</td>\n      "
            f"{_CELL}Review due </span>{due_tag(person.review_due) if is_open else ''}</td>\n      "
            f'{_CELL}Date of birth </span><span class="dsr-nowrap">{escape(format_date(born))}'
            f'</span> <span class="dsr-nowrap">({escape(age(born))})</span></td>\n      '
            f'{_CELL}NHS number </span><span class="dsr-nowrap">{escape(number)}</span>'
            "</td>\n      "
            f'{_CELL}Status </span><strong class="nhsuk-tag '
            f'{"nhsuk-tag--grey" if person.status == "closed" else "nhsuk-tag--white"}">'
            f"{escape(person.get_status_display())}</strong></td>\n    </tr>"
        )
    return Markup("".join(rows))  # noqa: S704 - every value from the record is escaped above
