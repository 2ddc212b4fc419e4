"""Adding a person to the register, and the register list's search, filters and sort."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms

from dsr.core.forms import Form, OnceField
from dsr.core.text import ascii_digits
from dsr.people.forms import PersonForm
from dsr.places.models import PlaceSettings
from dsr.risk.forms import RatingFields
from dsr.risk.models import RiskRating


class NewPersonForm(PersonForm, RatingFields):
    """Adding a person means rating them: every person on the register has a rating."""

    once = OnceField()  # sent twice, it does what it asks once (core/once.py)

    confirm_not_duplicate = forms.BooleanField(
        label="I have checked: this is a different person",
        required=False,
    )

    def __init__(self, *args: Any, policy: PlaceSettings, **kwargs: Any) -> None:
        super().__init__(*args, policy=policy, **kwargs)
        self.offer_factors_of(policy.place_id)

    def require_checked(self) -> None:
        self.add_error(
            "confirm_not_duplicate",
            "This may be someone already on a register. Check the records listed, "
            "then confirm this is a different person",
        )


SORTS = {
    "name": ("family_name", "given_name", "id"),
    "-name": ("-family_name", "-given_name", "-id"),
    "dob": ("date_of_birth", "id"),
    "-dob": ("-date_of_birth", "-id"),
    "updated": ("-updated_at", "-id"),
    "review": ("review_due", "id"),
    "rating": ("rating_order", "review_due", "id"),
}
SEARCH_MAX = 100


class RegisterFilterForm(Form):
    """The register list's search, filter and sort. Invalid choices fall back to defaults;
    a search too long to be a name, number or date is an error, never the whole register."""

    q = forms.CharField(
        label="Name, NHS number or date of birth",
        required=False,
        max_length=SEARCH_MAX,
        help_text="For example, Smith, 485 777 3456 or 15/03/2012",
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("open", "Open"), ("closed", "Closed"), ("all", "All")],
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[
            ("name", "Name (A to Z)"),
            ("-name", "Name (Z to A)"),
            ("dob", "Oldest first"),
            ("-dob", "Youngest first"),
            ("updated", "Recently updated"),
            ("review", "Review due (soonest first)"),
            ("rating", "Rating (Red first)"),
        ],
    )
    rating = forms.ChoiceField(
        label="Rating",
        required=False,
        choices=[("", "Any"), *RiskRating.choices],
    )
    review = forms.ChoiceField(
        label="Review",
        required=False,
        choices=[
            ("", "Any"),
            ("overdue", "Overdue"),
            ("soon", "Due or overdue soon"),
            ("now", "Review now (flagged)"),
        ],
    )

    def full_clean(self) -> None:
        super().full_clean()
        for name in ("status", "sort", "rating", "review"):
            self._errors.pop(name, None)  # an unknown filter is no filter, not an error

    def value(self, name: str, default: str = "") -> str:
        """The cleaned value, or `default` for a field whose value was not a valid choice."""
        if name in self.errors:
            return default
        return str(self.cleaned_data.get(name) or default)


def parse_date_query(text: str) -> datetime.date | None:
    """A date typed as 15/03/2012, 15-3-2012, 2012-03-15, 15 3 2012, or as the register
    shows it, 15 March 2012 (or 15 Mar 2012); otherwise None."""
    for pattern in ("%d %B %Y", "%d %b %Y"):
        try:
            return datetime.datetime.strptime(" ".join(text.split()), pattern).date()
        except ValueError:
            pass
    parts = [p for p in re.split(r"[\s/.\-]+", text.strip()) if p]
    if len(parts) != 3 or not all(ascii_digits(p) for p in parts):
        return None
    if len(parts[0]) == 4:
        year, month, day = (int(p) for p in parts)
    elif len(parts[2]) == 4:
        day, month, year = (int(p) for p in parts)
    else:
        return None
    try:
        return datetime.date(year, month, day)
    except (ValueError, OverflowError):
        return None
