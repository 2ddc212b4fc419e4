"""The forms of a tracker meeting. Labels match the services' wording, so that a service's
refusal reads as the form's own (core/validation.py)."""

from __future__ import annotations

from typing import Any

from django import forms

from dsr.core.forms import DateField, Form, OnceField, RecordChoiceField, VersionField
from dsr.meetings.models import Outcome
from dsr.risk.models import RiskRating
from dsr.risk.services import AgreedAction

# Rows for actions on the discussion form: enough for a meeting's decisions about one
# person; more are added afterwards from the person's record.
ACTION_ROWS = 3


class OwnerField(forms.ChoiceField):
    """A user who may own an action, from choices read once for all the form's rows (three
    model choice fields would each read the team again)."""

    def __init__(self, *, users: dict[str, Any], **kwargs: Any) -> None:
        choices = [("", "Not a user"), *((pk, user.full_name) for pk, user in users.items())]
        super().__init__(choices=choices, **kwargs)
        self.users = users

    def clean(self, value: Any) -> Any:
        key = super().clean(value)
        return self.users.get(key) if key else None


class MeetingForm(Form):
    held_on = DateField(label="Date of the meeting")
    venue = forms.CharField(
        label="Where (optional)",
        max_length=200,
        required=False,
        help_text="A room, or how to join online",
    )
    chair = RecordChoiceField(label="Chair", queryset=None, required=False, empty_label="Not yet")
    minute_taker = RecordChoiceField(
        label="Minute-taker", queryset=None, required=False, empty_label="Not yet"
    )
    version = VersionField(required=False)

    def __init__(self, *args: Any, team: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["chair"].queryset = team  # type: ignore[attr-defined]
        self.fields["minute_taker"].queryset = team  # type: ignore[attr-defined]


class AttendeeForm(Form):
    once = OnceField()  # sent twice, it does what it asks once (core/once.py)
    user = RecordChoiceField(
        label="A user of the register", queryset=None, required=False, empty_label="Not a user"
    )
    name = forms.CharField(
        label="Or their name", max_length=150, required=False, help_text="For example, Sam Jones"
    )
    job_title = forms.CharField(
        label="Role (optional)",
        max_length=150,
        required=False,
        help_text="For example, CAMHS team manager",
    )
    organisation = RecordChoiceField(
        label="Organisation (optional)", queryset=None, required=False, empty_label="None"
    )

    def __init__(self, *args: Any, team: Any, organisations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = team  # type: ignore[attr-defined]
        self.fields["organisation"].queryset = organisations  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("user") and not data.get("name"):
            self.add_error("user", "Choose a user, or enter the attendee's name")
        return data


class ReasonForm(Form):
    """Why someone is added to, or taken off, the agenda."""

    reason = forms.CharField(
        label="Why",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Enter why"},
    )
    version = VersionField(required=False)


class ConfirmForm(Form):
    version = VersionField()


class DiscussionForm(Form):
    """What the meeting decided about one person (issue 11, part 3)."""

    notes = forms.CharField(
        label="Discussion",
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 6, "autofocus": True}),
        error_messages={"required": "Enter the discussion"},
    )
    outcome = forms.ChoiceField(
        label="The rating",
        choices=Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the rating is confirmed or changed"},
    )
    rating = forms.ChoiceField(
        label="Rating agreed",
        choices=RiskRating.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the rating the meeting agreed"},
    )
    rationale = forms.CharField(
        label="Why this rating (optional)",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    next_review_on = DateField(
        label="Next review", required_message="Enter the date of the next review"
    )
    version = VersionField()

    def __init__(self, *args: Any, users: Any, referral: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.referral = referral
        if referral:  # a referral not on the register: notes only
            for name in ("outcome", "rating", "rationale", "next_review_on"):
                del self.fields[name]
            return
        owners = {str(user.pk): user for user in users}
        for i in range(ACTION_ROWS):
            self.fields[f"action_{i}_description"] = forms.CharField(
                label="Action agreed", max_length=300, required=False
            )
            self.fields[f"action_{i}_owner_user"] = OwnerField(
                label="Owner", users=owners, required=False
            )
            self.fields[f"action_{i}_owner_name"] = forms.CharField(
                label="Or a named professional", max_length=150, required=False
            )
            self.fields[f"action_{i}_due_on"] = DateField(
                label="Due by", called="due date", required=False, future_only=True
            )

    def action_rows(self) -> list[list[Any]]:
        return [
            [
                self[f"action_{i}_{part}"]
                for part in ("description", "owner_user", "owner_name", "due_on")
            ]
            for i in range(ACTION_ROWS)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.referral:
            return data
        for i in range(ACTION_ROWS):
            described = data.get(f"action_{i}_description")
            owner = data.get(f"action_{i}_owner_user") or data.get(f"action_{i}_owner_name")
            due = data.get(f"action_{i}_due_on")
            if not (described or owner or due):
                continue
            if not described:
                self.add_error(f"action_{i}_description", "Enter what needs to be done")
            if not owner:
                self.add_error(f"action_{i}_owner_user", "Choose who owns this action")
            if not due and f"action_{i}_due_on" not in self.errors:
                self.add_error(f"action_{i}_due_on", "Enter the action's due date")
        return data

    def agreed(self) -> list[AgreedAction]:
        data = self.cleaned_data
        return [
            AgreedAction(
                description=data[f"action_{i}_description"],
                due_on=data[f"action_{i}_due_on"],
                owner_user=data[f"action_{i}_owner_user"],
                owner_name=data[f"action_{i}_owner_name"],
            )
            for i in range(ACTION_ROWS)
            if data.get(f"action_{i}_description")
        ]
