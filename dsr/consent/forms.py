from __future__ import annotations

from typing import Any

from django import forms

from dsr.consent.models import ConsentBasis, ConsentGiver, Evidence
from dsr.core.forms import DateField, Form, OnceField, RecordsChoiceField


class ConsentForm(Form):
    once = OnceField()  # sent twice, it does what it asks once (core/once.py)
    given_by = forms.ChoiceField(
        label="Who gave consent?",
        choices=ConsentGiver.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select who gave consent"},
    )
    consenter = forms.CharField(
        label="Their name",
        max_length=150,
        help_text="For a best-interests decision: who made it, and their role",
        error_messages={"required": "Enter the name of who gave consent or made the decision"},
    )
    basis = forms.ChoiceField(
        label="On what basis?",
        choices=ConsentBasis.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the basis for consent"},
    )
    share_with = RecordsChoiceField(
        label="Organisations they agree we share information with (optional)",
        help_text="Consent to being on the register is always part of consent",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    given_on = DateField(label="Date consent was given", past_only=True)
    evidence = forms.ChoiceField(
        label="How is it evidenced?",
        choices=Evidence.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how consent is evidenced"},
    )
    evidence_note = forms.CharField(
        label="Details (optional)",
        help_text="Needed for a conversation or a best-interests decision: what was said or "
        "decided, and by whom",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, organisations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["share_with"].queryset = organisations  # type: ignore[attr-defined]


class WithdrawalForm(Form):
    withdrawn_by = forms.CharField(
        label="Who withdrew consent?",
        max_length=150,
        help_text="Their name, and who they are (for example, Sam Okafor, mother)",
        error_messages={"required": "Enter who withdrew consent"},
    )
    withdrawn_on = DateField(label="Date consent was withdrawn", past_only=True)
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
