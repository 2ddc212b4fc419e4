"""Every field of every form reads its input and words its errors the same way (core/forms.py
`name_each_error`): what a review found on the forms, each case held across all of them."""

from __future__ import annotations

import pytest
from django import forms
from django.core.exceptions import ValidationError

from dsr.core.forms import DateField, name_each_error
from tests.core.test_forms_input import _forms, _made


def _fields(kind: type[forms.Field]) -> list:
    """Every field of the kind someone types into, on every form (not the hidden ones a page
    writes: a version, a one-time token)."""
    found = []
    for form_class in _forms():
        form = _made(form_class)
        if form is None:
            continue
        name_each_error(form)
        for name, field in form.fields.items():
            if isinstance(field, kind) and not isinstance(field.widget, forms.HiddenInput):
                found.append(pytest.param(field, id=f"{form_class.__qualname__}.{name}"))
    return found


NUMBERS = _fields(forms.IntegerField)
DATES = _fields(DateField)
TEXTS = _fields(forms.CharField)


def test_there_are_fields_to_hold():
    assert len(NUMBERS) >= 3 and len(DATES) >= 20 and len(TEXTS) >= 50


@pytest.mark.parametrize("field", NUMBERS)
@pytest.mark.parametrize("other_digits", ["٣", "３", "۳", "3٣"])
def test_a_number_is_read_in_the_digits_0_to_9_only(field, other_digits):
    """Found by a review: a hospital's distance of "٣" miles was saved as 3, and a place
    setting of "٧" days read as 7, where dates and NHS numbers refuse those digits."""
    with pytest.raises(ValidationError):
        field.clean(other_digits)


@pytest.mark.parametrize("field", DATES)
def test_a_dates_errors_call_it_by_a_noun(field):
    """Found by a review: "The due by must be a real date", "The as of must be…"."""
    last_word = field.called.split()[-1]
    assert last_word not in {"by", "of", "from", "to", "as"}, field.called
    with pytest.raises(ValidationError) as refused:
        field.clean(["31", "2", "2026"])
    assert refused.value.messages == [f"The {field.called} must be a real date"]


@pytest.mark.parametrize("field", TEXTS)
def test_null_characters_are_refused_in_the_fields_own_name(field):
    with pytest.raises(ValidationError) as refused:
        field.clean("a\x00b")
    assert any(m.endswith("must not contain null characters") for m in refused.value.messages)
    assert "Null characters are not allowed." not in refused.value.messages


def test_a_label_that_says_your_is_not_the_your():
    """Found by a review: the public form said "Enter the your name"."""
    from dsr.referrals.forms import SelfReferralForm

    form = SelfReferralForm({})
    assert form.errors["referrer_name"] == ["Enter your name"]
