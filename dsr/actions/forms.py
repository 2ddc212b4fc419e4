from __future__ import annotations

from typing import Any

from django import forms

from dsr.actions.models import ActionStatus
from dsr.core.forms import DateField, Form, OnceField, RecordChoiceField, VersionField


class ActionForm(Form):
    once = OnceField()  # sent twice, it does what it asks once (core/once.py)
    description = forms.CharField(
        label="What needs to be done",
        max_length=300,
        error_messages={"required": "Enter what needs to be done"},
    )
    owner_user = RecordChoiceField(
        label="Owner on the register team", queryset=None, required=False, empty_label="Not a user"
    )
    owner_name = forms.CharField(
        label="Or a named professional",
        help_text="For example, Sam Jones (school SENCO)",
        max_length=150,
        required=False,
    )
    owner_organisation = RecordChoiceField(
        label="Their organisation", queryset=None, required=False, empty_label="None"
    )
    due_on = DateField(
        label="Due by",
        future_only=True,
        called="due date",
        required_message="Enter the date the action is due by",
    )

    def __init__(self, *args: Any, users: Any, organisations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner_user"].queryset = users  # type: ignore[attr-defined]
        self.fields["owner_organisation"].queryset = organisations  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("owner_user") or data.get("owner_name") or data.get("owner_organisation")):
            self.add_error("owner_user", "Choose who owns this action")
        return data


class ActionUpdateForm(Form):
    status = forms.ChoiceField(
        label="Status", choices=ActionStatus.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = VersionField()
