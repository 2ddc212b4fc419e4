from __future__ import annotations

from typing import Any

from django import forms

from dsr.core.forms import DateField, Form, OnceField, RecordChoiceField, VersionField
from dsr.keywork.models import ContactKind

FOLLOW_UPS = 3


class AllocateForm(Form):
    keyworker = RecordChoiceField(
        label="Keyworker",
        queryset=None,
        empty_label="Select a keyworker",
        error_messages={"required": "Select a keyworker"},
    )
    started_on = DateField(label="From", called="start date", past_only=True)

    def __init__(self, *args: Any, keyworkers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keyworker"].queryset = keyworkers  # type: ignore[attr-defined]


class EndAllocationForm(Form):
    ended_on = DateField(label="Last day as their keyworker", past_only=True)
    end_reason = forms.CharField(
        label="Why is it ending?",
        max_length=200,
        help_text="For example, no longer eligible: rated Green at the tracker meeting",
        error_messages={"required": "Enter why the allocation is ending"},
    )
    version = VersionField()


class ContactForm(Form):
    """A contact, and up to three follow-ups agreed with the family."""

    once = OnceField()  # sent twice, it does what it asks once (core/once.py)

    contacted_on = DateField(label="Date of the contact", past_only=True)
    kind = forms.ChoiceField(
        label="How were you in contact?",
        choices=ContactKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how you were in contact"},
    )
    with_whom = forms.CharField(
        label="With whom",
        max_length=200,
        help_text="For example, mum and the young person",
        error_messages={"required": "Enter who you were in contact with"},
    )
    summary = forms.CharField(
        label="What was discussed",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Enter what was discussed"},
    )

    def __init__(self, *args: Any, owners: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, FOLLOW_UPS + 1):
            self.fields[f"follow_up_{n}"] = forms.CharField(
                label=f"Follow-up {n}: what was agreed (optional)", max_length=300, required=False
            )
            self.fields[f"follow_up_{n}_owner"] = forms.ChoiceField(
                label=f"Follow-up {n}: who will do it",
                choices=[("", "Select"), *owners],
                required=False,
            )
            self.fields[f"follow_up_{n}_due"] = DateField(
                label=f"Follow-up {n}: due by",
                called=f"due date of follow-up {n}",
                future_only=True,
                required=False,
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, FOLLOW_UPS + 1):
            if not data.get(f"follow_up_{n}"):
                continue
            if not data.get(f"follow_up_{n}_owner"):
                self.add_error(f"follow_up_{n}_owner", f"Select who will do follow-up {n}")
            if not data.get(f"follow_up_{n}_due") and f"follow_up_{n}_due" not in self.errors:
                self.add_error(f"follow_up_{n}_due", f"Enter the date follow-up {n} is due by")
        return data

    def follow_up_rows(self) -> list[tuple[str, str, Any]]:
        """(description, owner choice, due date) of each follow-up filled in."""
        data = self.cleaned_data
        return [
            (data[f"follow_up_{n}"], data[f"follow_up_{n}_owner"], data[f"follow_up_{n}_due"])
            for n in range(1, FOLLOW_UPS + 1)
            if data.get(f"follow_up_{n}")
        ]
