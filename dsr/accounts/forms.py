from __future__ import annotations

from django import forms

from dsr.core.forms import Form
from dsr.core.text import ascii_digits


class SignInForm(Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "spellcheck": False}),
    )
    password = forms.CharField(
        label="Password",
        max_length=512,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(Form):
    code = forms.CharField(
        label="Security code",
        help_text="The 6-digit code from your authenticator app",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "class": "nhsuk-input--width-10",
            }
        ),
    )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not ascii_digits(code):
            raise forms.ValidationError("Security code must be 6 numbers")
        return code


class ChangeAuthenticatorForm(Form):
    """An authenticator app vouched for by the one it replaces (issue 8: enrolling needs
    more than the password: a set-up link, or an existing factor)."""

    current = forms.CharField(
        label="Code from your current authenticator app",
        help_text="The 6-digit code your current app shows now",
        max_length=6,
        min_length=6,
        widget=CodeForm.base_fields["code"].widget,
    )
    new = forms.CharField(
        label="Code from your new authenticator app",
        help_text="The 6-digit code the new app shows, once you have scanned the QR code",
        max_length=6,
        min_length=6,
        widget=CodeForm.base_fields["code"].widget,
    )

    def _digits(self, field: str) -> str:
        code = self.cleaned_data[field].strip()
        if not ascii_digits(code):
            raise forms.ValidationError("Security code must be 6 numbers")
        return code

    def clean_current(self) -> str:
        return self._digits("current")

    def clean_new(self) -> str:
        return self._digits("new")


class SetPasswordForm(Form):
    password = forms.CharField(
        label="Create a password",
        help_text="12 characters or more. A few unrelated words make a strong password",
        max_length=512,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    again = forms.CharField(
        label="Type the password again",
        max_length=512,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
