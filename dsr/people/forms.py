from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from dsr.core import nhs_number
from dsr.core.forms import DateField, Form, ModelForm
from dsr.people.choices import ClosureReason, Status
from dsr.people.models import Person
from dsr.people.services import EDITABLE_FIELDS, check_age_in_range
from dsr.places.models import PlaceSettings
from dsr.risk.models import RATING_MEANING, RiskFactor, RiskRating

YES_NO = [(True, "Yes"), (False, "No")]


class VersionField(forms.IntegerField):
    """The version the user loaded, carried in a hidden field (optimistic locking)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=2**31 - 1, **kwargs)
        self.error_messages["invalid"] = self.error_messages["required"] = (
            "This form is out of date. Reload the page and try again"
        )


class PersonForm(ModelForm):
    date_of_birth = DateField(
        label="Date of birth", help_text="For example, 15 3 2012", past_only=True
    )
    nhs_number = forms.CharField(
        label="NHS number",
        required=False,
        max_length=20,
        help_text="10 digits, for example 485 777 3456. Leave blank if not known yet",
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "spellcheck": False, "class": "nhsuk-input--width-10"}
        ),
    )

    class Meta:
        model = Person
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "ethnicity": forms.Select,
            "accommodation": forms.RadioSelect,
            "learning_disability": forms.RadioSelect,
            "autism": forms.RadioSelect,
            "ehc_plan": forms.RadioSelect,
            "education_attendance": forms.Select,
            "address": forms.Textarea(attrs={"rows": 3}),
            "diagnosis_notes": forms.Textarea(attrs={"rows": 3}),
            "communication_needs": forms.Textarea(attrs={"rows": 3}),
            "key_safety_information": forms.Textarea(attrs={"rows": 5}),
            "postcode": forms.TextInput(
                attrs={"class": "nhsuk-input--width-10", "autocomplete": "off"}
            ),
        }
        help_texts = {
            "key_safety_information": "What everyone must know to keep this person safe",
            "communication_needs": "How the person communicates and what helps",
        }

    def __init__(self, *args: Any, policy: PlaceSettings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy
        for name in ("looked_after", "child_protection_plan", "child_in_need"):
            self.fields[name] = forms.TypedChoiceField(
                label=self.fields[name].label,
                choices=YES_NO,
                coerce=lambda v: v in (True, "True"),
                widget=forms.RadioSelect,
            )
        if self.instance.pk is None:
            for name in ("looked_after", "child_protection_plan", "child_in_need"):
                self.initial.setdefault(name, False)
        for name in ("ethnicity", "education_attendance"):
            field = self.fields[name]
            if name == "education_attendance":
                field.choices = [("", "Not recorded"), *list(field.choices)[1:]]
            else:
                field.choices = [c for c in field.choices if c[0] != ""]

    def clean_nhs_number(self) -> str:
        value = self.cleaned_data.get("nhs_number", "")
        return nhs_number.validate(value) if value.strip() else ""

    def clean_postcode(self) -> str:
        return " ".join(self.cleaned_data.get("postcode", "").upper().split())

    def clean_date_of_birth(self) -> Any:
        value = self.cleaned_data.get("date_of_birth")
        if value is not None:
            check_age_in_range(date_of_birth=value, policy=self.policy)
        return value


class NewPersonForm(PersonForm):
    """Adding a person means rating them: every person on the register has a rating."""

    rating = forms.ChoiceField(
        label="Risk rating",
        choices=[(r.value, f"{r.label}: {RATING_MEANING[r]}") for r in RiskRating],
        widget=forms.RadioSelect,
    )
    rationale = forms.CharField(
        label="Why this rating?",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter the reason for this rating"},
    )
    factors = forms.ModelMultipleChoiceField(
        label="Risk factors considered (optional)",
        queryset=RiskFactor.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    confirm_not_duplicate = forms.BooleanField(
        label="I have checked: this is a different person",
        required=False,
    )

    def __init__(self, *args: Any, policy: PlaceSettings, **kwargs: Any) -> None:
        super().__init__(*args, policy=policy, **kwargs)
        self.fields["factors"].queryset = RiskFactor.objects.filter(  # type: ignore[attr-defined]
            place_id=policy.place_id, is_active=True
        )


class EditPersonForm(PersonForm):
    version = VersionField()

    class Meta(PersonForm.Meta):
        fields = [*PersonForm.Meta.fields, "version"]


class CloseForm(Form):
    closure_reason = forms.ChoiceField(
        label="Why is this person leaving the register?",
        choices=ClosureReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why this person is leaving the register"},
    )
    closed_on = DateField(label="Date closed", past_only=True, help_text="For example, 1 11 2026")
    closure_note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = VersionField()


SORTS = {
    "name": ("family_name", "given_name", "id"),
    "-name": ("-family_name", "-given_name", "-id"),
    "dob": ("date_of_birth", "id"),
    "-dob": ("-date_of_birth", "-id"),
    "updated": ("-updated_at", "-id"),
    "review": ("review_due", "id"),
    "rating": ("rating_order", "review_due", "id"),
}


class RegisterFilterForm(Form):
    """The register list's search, filter and sort. Invalid values fall back to defaults."""

    q = forms.CharField(
        label="Name, NHS number or date of birth",
        required=False,
        max_length=100,
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

    def clean_status(self) -> str:
        return self.cleaned_data.get("status") or Status.OPEN

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or "name"


def parse_date_query(text: str) -> datetime.date | None:
    """A date typed as 15/03/2012, 15-3-2012, 2012-03-15 or 15 3 2012, or None."""
    parts = [p for p in re.split(r"[\s/.\-]+", text.strip()) if p]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    if len(parts[0]) == 4:
        year, month, day = (int(p) for p in parts)
    elif len(parts[2]) == 4:
        day, month, year = (int(p) for p in parts)
    else:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def require_checked_duplicates(form: NewPersonForm, duplicates: list[Any]) -> None:
    if duplicates and not form.cleaned_data.get("confirm_not_duplicate"):
        form.add_error(
            "confirm_not_duplicate",
            ValidationError(
                "This may be someone already on a register. Check the records listed, "
                "then confirm this is a different person"
            ),
        )
