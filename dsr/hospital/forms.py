"""The forms of a stay. Labels are the model's verbose names, so that a service's refusal
reads as the form's own (core/validation.py)."""

from __future__ import annotations

from typing import Any

from django import forms

from dsr.core.forms import DateField, Form, OnceField, VersionField
from dsr.hospital.choices import DISCHARGE_DESTINATIONS, LegalStatus, ProviderSector, WardType
from dsr.hospital.services import MAX_MILES, MILES_MESSAGE

YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(label: str, message: str, **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": message},
        **kwargs,
    )


class AdmissionForm(Form):
    hospital = forms.CharField(label="Hospital", max_length=200)
    provider = forms.CharField(
        label="Provider", max_length=200, help_text="The trust or company that runs the hospital"
    )
    provider_sector = forms.ChoiceField(
        label="NHS or independent provider",
        choices=ProviderSector.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the provider is NHS or independent"},
    )
    ward_type = forms.ChoiceField(
        label="Ward type", choices=WardType.choices, widget=forms.RadioSelect
    )
    legal_status = forms.ChoiceField(
        label="Legal status", choices=LegalStatus.choices, initial=LegalStatus.INFORMAL
    )
    distance_miles = forms.IntegerField(
        label="Distance from home (miles) (optional)",
        min_value=0,
        max_value=MAX_MILES,
        required=False,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-4", "inputmode": "numeric"}),
        error_messages=dict.fromkeys(("invalid", "min_value", "max_value"), MILES_MESSAGE),
    )
    out_of_area = _yes_no("Out of area", "Select whether the hospital is out of area")
    on_register_before = _yes_no(
        "On the register before admission",
        "Select whether they were on the register before this admission",
        help_text="Assuring Transformation asks this of every admission",
    )
    admitted_on = DateField(label="Date admitted", past_only=True)
    delayed_discharge = forms.BooleanField(label="The discharge is delayed", required=False)
    delay_reason = forms.CharField(
        label="Why the discharge is delayed",
        help_text="Needed only when the discharge is delayed",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("delayed_discharge") and not data.get("delay_reason"):
            self.add_error("delay_reason", "Enter why the discharge is delayed")
        return data

    def admission_data(self) -> dict[str, Any]:
        return self.values_of(self.cleaned_data)

    @staticmethod
    def values_of(cleaned: dict[str, Any]) -> dict[str, Any]:
        """What the services take: the answers as booleans, without the form's version."""
        data = {name: value for name, value in cleaned.items() if name != "version"}
        for name in ("out_of_area", "on_register_before"):
            data[name] = data[name] == "yes"
        return data

    @staticmethod
    def initial_from(admission: Any) -> dict[str, Any]:
        initial = {name: getattr(admission, name) for name in AdmissionForm.base_fields}
        for name in ("out_of_area", "on_register_before"):
            initial[name] = "yes" if initial[name] else "no"
        return initial | {"version": admission.version}


class EditAdmissionForm(AdmissionForm):
    version = VersionField()


class DischargeForm(Form):
    discharged_on = DateField(label="Date discharged", past_only=True)
    discharge_destination = forms.ChoiceField(
        label="Discharged to",
        choices=DISCHARGE_DESTINATIONS,
        widget=forms.RadioSelect,
        error_messages={"required": "Select where they were discharged to"},
    )
    version = VersionField()


class VisitForm(Form):
    once = OnceField()  # sent twice, it does what it asks once (core/once.py)
    visited_on = DateField(label="Date of the visit", past_only=True)
    visited_by = forms.CharField(
        label="Who visited",
        max_length=200,
        error_messages={"required": "Enter who visited"},
        help_text="The commissioner (or their delegate), and their role",
    )
    findings = forms.CharField(
        label="Findings", max_length=8000, widget=forms.Textarea(attrs={"rows": 6})
    )


class LiftRedForm(Form):
    red_lifted_reason = forms.CharField(
        label="Why they need not stay Red",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter why they need not stay Red"},
    )
    version = VersionField()
