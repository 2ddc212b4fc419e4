"""Referral forms: the team's, the public one for parents and carers, and triage."""

from __future__ import annotations

from typing import Any

from django import forms

from dsr.core.forms import DateField, Form, OnceField, RecordChoiceField, VersionField
from dsr.referrals.models import Communicated, ConsentObtained

RELATIONSHIPS = [
    ("", "Select"),
    ("Parent", "Parent"),
    ("Step-parent", "Step-parent"),
    ("Grandparent", "Grandparent"),
    ("Foster carer", "Foster carer"),
    ("Kinship carer", "Kinship carer"),
    ("Other family member", "Other family member"),
    ("Other carer", "Other carer"),
]


class ChildFields(Form):
    given_name = forms.CharField(label="Given name", max_length=100)
    family_name = forms.CharField(label="Family name", max_length=100)
    date_of_birth = DateField(
        label="Date of birth", past_only=True, help_text="For example, 15 3 2012"
    )
    nhs_number = forms.CharField(
        label="NHS number (optional)",
        max_length=20,
        required=False,
        help_text="10 digits, for example 485 777 3456",
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "spellcheck": False, "class": "nhsuk-input--width-10"}
        ),
    )
    postcode = forms.CharField(
        label="Postcode (optional)",
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"class": "nhsuk-input--width-10", "autocomplete": "off"}),
    )


class ReferralForm(ChildFields):
    """A professional's referral, recorded by the team."""

    once = OnceField()  # sent twice, it does what it asks once (core/once.py)

    received_on = DateField(label="Date received", past_only=True)
    referrer_name = forms.CharField(label="Referrer's name", max_length=150)
    referrer_role = forms.CharField(
        label="Referrer's role (optional)",
        max_length=150,
        required=False,
        help_text="For example, CAMHS practitioner",
    )
    referrer_organisation = forms.CharField(
        label="Their organisation (optional)", max_length=200, required=False
    )
    referrer_phone = forms.CharField(label="Their phone (optional)", max_length=40, required=False)
    referrer_email = forms.CharField(
        label="Their email (optional)",
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"spellcheck": False}),
    )
    reason = forms.CharField(
        label="Reason for the referral", max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    current_risks = forms.CharField(
        label="Current risks (optional)",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    consent_obtained = forms.ChoiceField(
        label="Was consent to the referral obtained?",
        choices=ConsentObtained.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether consent was obtained"},
    )
    consent_from = forms.CharField(
        label="From whom (if it was)",
        max_length=150,
        required=False,
        help_text="For example, the young person, or their mother",
    )

    FIELDS = (
        "received_on",
        "referrer_name",
        "referrer_role",
        "referrer_organisation",
        "referrer_phone",
        "referrer_email",
        "given_name",
        "family_name",
        "date_of_birth",
        "nhs_number",
        "postcode",
        "reason",
        "current_risks",
        "consent_obtained",
        "consent_from",
    )

    def referral_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class SelfReferralForm(ChildFields):
    """The public form: plain English, no uploads, every field limited, and a honeypot."""

    once = OnceField()  # sent twice, it does what it asks once (core/once.py)

    referrer_name = forms.CharField(label="Your name", max_length=150)
    referrer_role = forms.ChoiceField(
        label="Your relationship to the child or young person",
        choices=RELATIONSHIPS,
        error_messages={"required": "Select your relationship to the child or young person"},
    )
    referrer_phone = forms.CharField(
        label="Your phone number",
        max_length=40,
        required=False,
        help_text="We will call you to talk about the referral",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    referrer_email = forms.CharField(
        label="Your email address (optional)",
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "email", "spellcheck": False}),
    )
    reason = forms.CharField(
        label="What is happening, and what help are you looking for?",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Tell us what is happening"},
    )
    current_risks = forms.CharField(
        label="What worries you most right now? (optional)",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    agree = forms.BooleanField(
        label="I agree to the team keeping this information, contacting me about it, and "
        "speaking to professionals who work with my child",
        error_messages={"required": "Tick the box to say you agree, so that we can help"},
    )
    # The honeypot: hidden from people (and screen readers); a bot fills it in.
    website = forms.CharField(label="Leave this empty", required=False, max_length=200)

    def referral_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "referrer_name": data["referrer_name"],
            "referrer_role": data["referrer_role"],
            "referrer_phone": data["referrer_phone"],
            "referrer_email": data["referrer_email"],
            "given_name": data["given_name"],
            "family_name": data["family_name"],
            "date_of_birth": data["date_of_birth"],
            "nhs_number": data["nhs_number"],
            "postcode": data["postcode"],
            "reason": data["reason"],
            "current_risks": data["current_risks"],
            "consent_obtained": ConsentObtained.YES,
            "consent_from": data["referrer_name"],
        }


def _how(label: str, message: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=Communicated.choices,
        widget=forms.RadioSelect,
        error_messages={"required": message},
    )


class FirstContactForm(Form):
    contacted_on = DateField(label="Date of first contact", past_only=True)
    communicated = _how("How did you make contact?", "Select how you made contact")
    note = forms.CharField(
        label="Note (optional)",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    version = VersionField()


class MoreInformationForm(Form):
    note = forms.CharField(
        label="What information is needed, and from whom?",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter what information is needed"},
    )
    communicated = _how("How did you ask?", "Select how you asked")
    decided_on = DateField(label="Date asked", past_only=True)
    version = VersionField()


class DeclineForm(Form):
    note = forms.CharField(
        label="Why is the referral declined?",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter why the referral is declined"},
    )
    communicated = _how(
        "How was the decision communicated to the referrer?",
        "Select how the decision was communicated",
    )
    decided_on = DateField(label="Date of the decision", past_only=True)
    version = VersionField()


class LinkForm(Form):
    """Accept for an existing record; a closed one is opened again with a new rating."""

    person = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**62)
    note = forms.CharField(label="Note (optional)", max_length=4000, required=False)
    version = VersionField()


class TransferForm(Form):
    to_place = RecordChoiceField(
        label="The place they are moving to",
        queryset=None,
        empty_label="Select a place",
        error_messages={"required": "Select the place they are moving to"},
    )
    note = forms.CharField(
        label="Why they are moving, and what the receiving team should know",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter why they are moving"},
    )
    version = VersionField()

    def __init__(self, *args: Any, places: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_place"].queryset = places  # type: ignore[attr-defined]
