from __future__ import annotations

from typing import Any

from django import forms

from dsr.core.forms import DateField, Form, OnceField, RecordsChoiceField, VersionField
from dsr.risk.models import RATING_MEANING, EventKind, RiskFactor, RiskRating

RATING_CHOICES = [(r.value, f"{r.label}: {RATING_MEANING[r]}") for r in RiskRating]


class RatingFields(Form):
    """The decision itself: used on its own, inside a review, and when adding a person
    (dsr/register, with the person's fields: `place` then comes from the place's policy)."""

    rating = forms.ChoiceField(
        label="Risk rating",
        choices=RATING_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Select a rating"},
    )
    rationale = forms.CharField(
        label="Why this rating?",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter the reason for this rating"},
    )
    factors = RecordsChoiceField(
        label="Risk factors considered (optional)",
        queryset=RiskFactor.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, place: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if place is not None:
            self.offer_factors_of(place)

    def offer_factors_of(self, place: Any) -> None:
        self.fields["factors"].queryset = RiskFactor.objects.filter(  # type: ignore[attr-defined]
            place=place, is_active=True
        )


class RateForm(RatingFields):
    once = OnceField()  # sent twice, it does what it asks once (core/once.py)
    decided_on = DateField(label="Date of the decision", past_only=True)
    context = forms.ChoiceField(
        label="Where was this decided?",
        choices=[
            ("tracker_meeting", "Tracker meeting"),
            ("cetr", "C(E)TR"),
            ("other", "Other (for example, after new information)"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select where this was decided"},
    )


class ReviewForm(RatingFields):
    once = OnceField()  # sent twice, it does what it asks once (core/once.py)
    held_on = DateField(label="Date of the review", past_only=True)
    participants = forms.CharField(
        label="Who took part",
        help_text="Names and roles, including the family",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter who took part"},
    )
    summary = forms.CharField(
        label="Summary", max_length=8000, widget=forms.Textarea(attrs={"rows": 6})
    )
    action_description = forms.CharField(
        label="Action agreed (optional)", max_length=300, required=False
    )
    action_owner = forms.CharField(
        label="Who owns the action",
        help_text="A name and organisation, for example Sam Jones, CAMHS",
        max_length=150,
        required=False,
    )
    action_due = DateField(
        label="Action due by",
        called="action's due date",
        required=False,
        future_only=True,
        required_message="Enter the date the action is due by",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action_description"):
            if not data.get("action_owner"):
                self.add_error("action_owner", "Enter who owns the action")
            if not data.get("action_due") and "action_due" not in self.errors:
                self.add_error("action_due", "Enter the date the action is due by")
        return data


class EventForm(Form):
    once = OnceField()  # sent twice, it does what it asks once (core/once.py)
    kind = forms.ChoiceField(
        label="What happened",
        choices=EventKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what happened"},
    )
    occurred_on = DateField(label="Date it happened", past_only=True)
    description = forms.CharField(
        label="Details (optional)",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ClosePromptForm(Form):
    """Close a rating's prompt that no longer applies: one click, with a reason."""

    action = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    reason = forms.CharField(
        label="Reason",
        max_length=1900,
        error_messages={"required": "Enter why the prompt no longer applies"},
    )
    version = VersionField()
