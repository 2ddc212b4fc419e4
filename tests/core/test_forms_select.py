"""Selects are written out in Python (core/forms.py `_render_select`), not through
nhsuk-frontend-jinja's select macro: for every select of every form in the service, the markup
is the macro's, whitespace and the spelling of an apostrophe's entity apart, unbound, with a
choice made, with a value that is not a choice, and in error."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.utils import ErrorDict

from dsr.core.forms import NHSBoundField, call_macro
from tests.core.test_forms_input import _forms, _made, _normal

AWKWARD = "Siân O’Brien <b>&amp; \"quoted\" 'single' ١٢٣"


def _same(html: object) -> str:
    # Django writes ' as &#x27; and " as &quot;, Jinja as &#39; and &#34;: the same
    # characters. (str.replace: a Markup's own would escape its argument.)
    text = str.replace(str(html), "&#x27;", "&#39;")
    return _normal(str.replace(text, "&quot;", "&#34;"))


def _selects(form) -> list[str]:
    names = []
    for name, field in form.fields.items():
        widget = field.widget
        if not isinstance(widget, forms.Select) or isinstance(widget, forms.SelectMultiple):
            continue
        try:
            list(field.choices)
        except AttributeError:  # its choices come from the place the form is built for
            continue
        names.append(name)
    return names


def _by_macro(bound: NHSBoundField) -> str:
    current = str(bound.value())
    params = {
        "id": bound.auto_id,
        "name": bound.html_name,
        "label": {"text": str(bound.label), "size": "s"},
        **bound._common(),
        "items": [
            {"value": str(value), "text": str(text), "selected": str(value) == current}
            for value, text in bound.field.choices
        ],
    }
    return str(call_macro("select", params))


def _cases():
    for form_class in _forms():
        form = _made(form_class)
        if form is None:
            continue
        for name in _selects(form):
            yield pytest.param(form_class, name, id=f"{form_class.__qualname__}.{name}")


CASES = list(_cases())


def test_the_forms_have_selects_to_compare():
    assert len(CASES) >= 10


@pytest.mark.django_db
@pytest.mark.parametrize(("form_class", "name"), CASES)
def test_a_select_is_the_nhs_macros_markup(form_class, name):
    unbound = _made(form_class)
    assert _same(unbound[name]) == _same(_by_macro(unbound[name]))
    choices = [value for value, _ in unbound.fields[name].choices]
    for value in [*choices[-1:], AWKWARD]:  # a choice made; a value that is not one
        filled = _made(form_class, {name: str(value)})
        filled._errors, filled.cleaned_data = ErrorDict(), {}  # as after cleaning
        assert _same(filled[name]) == _same(_by_macro(filled[name]))
        if value != AWKWARD and str(value):
            assert " selected" in str(filled[name])
    filled.add_error(name, "Choose a <real> option & try again")
    assert "nhsuk-select--error" in str(filled[name])
    assert _same(filled[name]) == _same(_by_macro(filled[name]))


def test_an_option_with_markup_in_its_label_or_value_is_escaped():
    class Awkward(forms.Form):
        choice = forms.ChoiceField(label="Pick", choices=[('"><b>', "<i>O'Brien & co</i>")])

        def __getitem__(self, name):
            return NHSBoundField(self, self.fields[name], name)

    html = str(Awkward()["choice"])
    assert "<b>" not in html and "<i>" not in html
    assert 'value="&quot;&gt;&lt;b&gt;"' in html and "O&#x27;Brien &amp; co" in html
    assert _same(html) == _same(_by_macro(Awkward()["choice"]))
