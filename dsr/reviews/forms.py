"""The forms of a C(E)TR. Labels are the model's verbose names, so that a service's refusal
reads as the form's own (core/validation.py)."""

from __future__ import annotations

from typing import Any

from django import forms

from dsr.core.forms import DateField, Form, VersionField
from dsr.reviews.models import CetrKind, ConsentBasis
from dsr.reviews.services import DETAIL_FIELDS


class RequestForm(Form):
    kind = forms.ChoiceField(
        label="What kind of review",
        choices=CetrKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what kind of review"},
        help_text="A LAEP meeting is recorded, but it does not count as a C(E)TR",
    )
    requested_on = DateField(label="Date requested", past_only=True)
    reason = forms.CharField(
        label="Why it is needed (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DetailsForm(Form):
    scheduled_for = DateField(
        label="Date of the review", required=False, help_text="Entering a date schedules it"
    )
    chair = forms.CharField(
        label="Chair",
        max_length=150,
        required=False,
        help_text="The commissioner or their delegate",
    )
    clinical_expert = forms.CharField(
        label="Clinical expert", max_length=150, required=False, help_text="Independent"
    )
    expert_by_experience = forms.CharField(
        label="Expert by experience", max_length=150, required=False, help_text="Independent"
    )
    other_panel = forms.CharField(
        label="Other panel members",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One a line, with their role",
    )
    attendees = forms.CharField(
        label="Attendees",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The family and the professionals taking part, one a line",
    )
    consent_basis = forms.ChoiceField(
        label="Consent for this review",
        choices=ConsentBasis.choices,
        widget=forms.RadioSelect,
        required=False,
        help_text="Without consent or a best-interests decision the panel may not read the papers",
    )
    consent_given_by = forms.CharField(
        label="Who consented, or who made the decision", max_length=150, required=False
    )
    consent_on = DateField(label="Date of consent or decision", past_only=True, required=False)
    version = VersionField()

    def details(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in DETAIL_FIELDS}


class HoldForm(Form):
    held_on = DateField(label="Date held", past_only=True)
    summary = forms.CharField(
        label="Outcome",
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What the panel found, and whether hospital is (still) needed",
        error_messages={"required": "Enter the outcome"},
    )
    version = VersionField()


class ReportForm(Form):
    report_issued_on = DateField(label="Date the report was issued", past_only=True)
    version = VersionField()


class CancelForm(Form):
    cancel_reason = forms.CharField(
        label="Why it was cancelled",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why it was cancelled"},
    )
    version = VersionField()
