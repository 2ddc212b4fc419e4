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


class SecurityCodeField(forms.CharField):
    """A 6-digit code from an authenticator app: ASCII digits only (no other script's)."""

    def __init__(self, *, label: str, help_text: str) -> None:
        super().__init__(
            label=label,
            help_text=help_text,
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

    def clean(self, value: object) -> str:
        code = str(super().clean(value)).strip()
        if not ascii_digits(code):
            raise forms.ValidationError("Security code must be 6 numbers")
        return code


class CodeForm(Form):
    code = SecurityCodeField(
        label="Security code", help_text="The 6-digit code from your authenticator app"
    )


class ChangeAuthenticatorForm(Form):
    """An authenticator app vouched for by the one it replaces (issue 8: enrolling needs
    more than the password: a set-up link, or an existing factor)."""

    current = SecurityCodeField(
        label="Code from your current authenticator app",
        help_text="The 6-digit code your current app shows now",
    )
    new = SecurityCodeField(
        label="Code from your new authenticator app",
        help_text="The 6-digit code the new app shows, once you have scanned the QR code",
    )


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
