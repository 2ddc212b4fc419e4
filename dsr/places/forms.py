"""The place admin's forms: the place's settings, its organisations, its users."""

from __future__ import annotations

from typing import Any

from django import forms

from dsr.core.access import Role
from dsr.core.forms import Form, RecordChoiceField, VersionField
from dsr.places import policy
from dsr.places.models import OrganisationKind, PlaceSettings


class PlaceSettingsForm(Form):
    """Every policy number, generic over PlaceSettings' fields (places/policy.py)."""

    version = VersionField()

    def __init__(self, *args: Any, current: PlaceSettings, **kwargs: Any) -> None:
        initial = {f.name: policy.form_value(f, getattr(current, f.name)) for f in self.fields_()}
        super().__init__(*args, initial={**initial, "version": current.version}, **kwargs)
        for field in self.fields_():
            self.fields[field.name] = policy.form_field(field)

    @staticmethod
    def fields_() -> list[Any]:
        return policy.policy_fields()

    def values(self) -> dict[str, Any]:
        """The cleaned values, as stored."""
        return {
            f.name: policy.from_form(f, self.cleaned_data[f.name])
            for f in self.fields_()
            if f.name in self.cleaned_data
        }


ORGANISATION_KINDS = [("", "Choose a kind"), *OrganisationKind.choices]


class OrganisationForm(Form):
    name = forms.CharField(label="Name", max_length=200)
    kind = forms.ChoiceField(label="Kind of organisation", choices=ORGANISATION_KINDS)


class OrganisationEditForm(OrganisationForm):
    is_active = forms.TypedChoiceField(
        label="Is it still in use?",
        choices=[("True", "Yes, offer it for new records"), ("False", "No, retire it")],
        coerce=lambda value: value == "True",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the organisation is still in use"},
    )


ROLE_CHOICES = [(role.value, role.label) for role in Role]
ROLE_HINTS = {
    Role.COORDINATOR: "DSR lead: keeps the register, rates, triages, allocates",
    Role.KEYWORKER: "Dynamic support keyworker: works a caseload",
    Role.PARTNER: "A practitioner from another agency: sees only the people in their networks",
    Role.VIEWER: "Commissioner or senior manager: reads the register and reports",
    Role.AUDITOR: "Information-governance lead: reads audit trails, no care data edits",
    Role.PLACE_ADMIN: "System owner: users, memberships and settings, no care data",
}


class _RoleFields(Form):
    role = forms.ChoiceField(
        label="Role in this place",
        choices=ROLE_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Select a role"},
    )
    organisation = RecordChoiceField(
        label="Organisation (optional)",
        queryset=None,
        required=False,
        empty_label="None",
        help_text="Where they work, if not the place's own team",
    )

    def __init__(self, *args: Any, organisations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations  # type: ignore[attr-defined]


class InviteForm(_RoleFields):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="Their work email (for example an nhs.net address): the invitation goes here",
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": False}),
        error_messages={
            "invalid": "Enter an email address in the correct format, like name@example.nhs.uk"
        },
    )
    full_name = forms.CharField(label="Full name", max_length=150)
    job_title = forms.CharField(label="Job title (optional)", max_length=150, required=False)

    field_order = ["full_name", "email", "job_title", "role", "organisation"]


class RoleForm(_RoleFields):
    expected_role = forms.CharField(widget=forms.HiddenInput, max_length=20)


class ConfirmForm(Form):
    """A one-click action that must be meant: its page's button sends `confirm=yes`."""

    def clean(self) -> dict[str, Any]:
        if self.data.get("confirm") != "yes":
            raise forms.ValidationError("Use the button on this page to confirm")
        return super().clean() or {}
