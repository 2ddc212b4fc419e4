"""The person form (its fields shared with adding someone to the register) and closing."""

from __future__ import annotations

import hashlib
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from typing import Any

from django import forms

from dsr.core import nhs_number
from dsr.core.forms import DateField, Form, ModelForm, VersionField
from dsr.people.choices import ClosureReason
from dsr.people.models import Person
from dsr.people.services import EDITABLE_FIELDS, check_age_in_range
from dsr.places.models import PlaceSettings

YES_NO = [(True, "Yes"), (False, "No")]
YES_NO_FIELDS = ("looked_after", "child_protection_plan", "child_in_need")


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
        error_messages = {
            "learning_disability": {
                "required": "Select whether the person has a learning disability"
            },
            "autism": {"required": "Select whether the person has an autism diagnosis"},
            "accommodation": {"required": "Select where the person lives"},
            "ehc_plan": {"required": "Select whether the person has an EHC plan"},
        }

    def __init__(self, *args: Any, policy: PlaceSettings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy
        if self.instance.nhs_number and not self.is_bound:
            self.initial["nhs_number"] = nhs_number.display(self.instance.nhs_number)
        for name in YES_NO_FIELDS:
            self.fields[name] = forms.TypedChoiceField(
                label=self.fields[name].label,
                choices=YES_NO,
                coerce=lambda v: v in (True, "True"),
                widget=forms.RadioSelect,
            )
        if self.instance.pk is None:
            for name in YES_NO_FIELDS:
                self.initial.setdefault(name, False)
        for name in ("ethnicity", "education_attendance"):
            field = self.fields[name]
            if name == "education_attendance":
                field.choices = [("", "Not recorded"), *list(field.choices)[1:]]  # type: ignore[attr-defined]
            else:
                field.choices = [c for c in field.choices if c[0] != ""]  # type: ignore[attr-defined]

    def clean_nhs_number(self) -> str:
        value = self.cleaned_data.get("nhs_number", "")
        return nhs_number.validate(value) if value.strip() else ""

    def clean_postcode(self) -> str:
        return " ".join(self.cleaned_data.get("postcode", "").upper().split())

    def clean_date_of_birth(self) -> Any:
        value = self.cleaned_data.get("date_of_birth")
        if value is not None:
            try:
                check_age_in_range(date_of_birth=value, policy=self.policy)
            except forms.ValidationError as error:
                raise forms.ValidationError(error.message_dict["date_of_birth"]) from None
        return value

    def person_data(self) -> dict[str, Any]:
        """The person's fields, as the services take them."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name in EDITABLE_FIELDS and not self.fields[name].disabled
        }


def _digest(value: Any) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()[:12]


def fingerprint(person: Person) -> str:
    """A short digest of each field as it stands: carried by the edit form, so that a stale
    save can tell which fields someone else changed since this user opened the form, and
    which ones this user changed."""
    digest = {name: _digest(getattr(person, name)) for name in EDITABLE_FIELDS}
    return urlsafe_b64encode(json.dumps(digest, separators=(",", ":")).encode()).decode()


def _opened(loaded: str) -> dict[str, str]:
    try:
        opened = json.loads(urlsafe_b64decode(loaded.encode()))
    except ValueError:
        return {}
    return opened if isinstance(opened, dict) else {}


def changed_since(loaded: str, person: Person) -> list[str]:
    """The fields that differ between the record as the form was opened and now."""
    then = _opened(loaded)
    return [name for name in EDITABLE_FIELDS if then.get(name) != _digest(getattr(person, name))]


def typed_changes(loaded: str, values: dict[str, Any]) -> dict[str, Any]:
    """The values this user changed from the record as they opened it (all, if unknown)."""
    then = _opened(loaded)
    return {name: value for name, value in values.items() if then.get(name) != _digest(value)}


class EditPersonForm(PersonForm):
    version = VersionField()
    loaded = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    class Meta(PersonForm.Meta):
        fields = [*PersonForm.Meta.fields, "version"]

    def __init__(self, *args: Any, may_change_nhs_number: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_change_nhs_number:
            # ADR 0010: only roles that add people change an NHS number (and so learn
            # whether it is on another register).
            field = self.fields["nhs_number"]
            field.disabled = True
            field.help_text = "Only the team who add people to the register can change this"


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


def describe(person: Person, name: str) -> str:
    """A field's value as the record shows it (for "changed since you opened this form")."""
    value = getattr(person, name)
    display = getattr(person, f"get_{name}_display", None)
    if display is not None:
        return str(display())
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if name == "nhs_number":
        return nhs_number.display(value) if value else "Not recorded"
    if hasattr(value, "strftime"):
        return f"{value:%-d %B %Y}"
    return str(value) if value not in (None, "") else "Not recorded"
