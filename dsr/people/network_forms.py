"""Forms for the care network (a professional, family or a carer; editing and ending)
and for circumstances."""

from __future__ import annotations

from typing import Any

from django import forms

from dsr.core.forms import DateField, Form, OnceField, RecordChoiceField, VersionField
from dsr.people.choices import CircumstanceArea, Relationship, Standing

YES_NO = [(True, "Yes"), (False, "No")]


def _yes_no(label: str, message: str, hint: str = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        help_text=hint,
        choices=YES_NO,
        coerce=lambda v: v in (True, "True"),
        widget=forms.RadioSelect,
        error_messages={"required": message},
    )


class ContactFields(Form):
    phone = forms.CharField(
        label="Phone (optional)",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "nhsuk-input--width-20"}),
    )
    email = forms.CharField(
        label="Email (optional)",
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": False}),
    )


class ProfessionalForm(ContactFields):
    name = forms.CharField(label="Name", max_length=150)
    job_title = forms.CharField(
        label="Role (optional)",
        max_length=150,
        required=False,
        help_text="For example, school SENCO or social worker",
    )
    organisation = RecordChoiceField(
        label="Organisation (optional)", queryset=None, required=False, empty_label="None"
    )
    user = RecordChoiceField(
        label="Uses the register as (optional)",
        help_text="A partner linked here sees this person's record and can update the actions "
        "they own",
        queryset=None,
        required=False,
        empty_label="Does not use the register",
    )
    is_lead = _yes_no(
        "Are they the lead professional?", "Select whether they are the lead professional"
    )

    def __init__(self, *args: Any, organisations: Any, partners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations  # type: ignore[attr-defined]
        self.fields["user"].queryset = partners  # type: ignore[attr-defined]
        self.fields["user"].label_from_instance = (  # type: ignore[attr-defined]
            lambda user: f"{user.full_name} ({user.email})"
        )
        self.initial.setdefault("is_lead", False)

    def member_data(self) -> dict[str, Any]:
        keys = ("name", "job_title", "organisation", "user", "is_lead", "phone", "email")
        return {k: self.cleaned_data[k] for k in keys}


class FamilyForm(ContactFields):
    name = forms.CharField(label="Name", max_length=150)
    relationship = forms.ChoiceField(
        label="Relationship to the person",
        choices=[("", "Select"), *Relationship.choices],
        error_messages={"required": "Select their relationship to the person"},
    )
    parental_responsibility = _yes_no(
        "Do they have parental responsibility?",
        "Select whether they have parental responsibility",
        hint="For a child under 18",
    )

    def member_data(self) -> dict[str, Any]:
        keys = ("name", "relationship", "parental_responsibility", "phone", "email")
        return {k: self.cleaned_data[k] for k in keys}


class StartField(Form):
    once = OnceField()  # sent twice, it does what it asks once (core/once.py)
    started_on = DateField(
        label="Involved since", past_only=True, help_text="For example, 1 9 2026"
    )


class NewProfessionalForm(ProfessionalForm, StartField):
    pass


class NewFamilyForm(FamilyForm, StartField):
    pass


class EditProfessionalForm(ProfessionalForm):
    version = VersionField()


class EditFamilyForm(FamilyForm):
    version = VersionField()


class EndMemberForm(Form):
    ended_on = DateField(label="Date they left the care network", past_only=True)
    version = VersionField()


class CircumstanceForm(Form):
    once = OnceField()  # sent twice, it does what it asks once (core/once.py)
    area = forms.ChoiceField(
        label="Which area?",
        choices=CircumstanceArea.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the area"},
    )
    standing = forms.ChoiceField(
        label="How are they managing?",
        choices=Standing.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how they are managing"},
    )
    note = forms.CharField(
        label="What is happening (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    recorded_on = DateField(label="As of", called="date", past_only=True)
