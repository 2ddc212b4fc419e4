"""Text inputs are written out in Python (core/forms.py `_render_input`), not through
nhsuk-frontend-jinja's input macro: for every text input of every form in the service, the
markup is the macro's, whitespace apart, unbound, filled with awkward text, and in error."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest
from django import forms
from django.forms.utils import ErrorDict
from django.forms.widgets import Input

import dsr
from dsr.core.forms import NHSBoundField

EXCLUDED = {"class", "maxlength", "autocomplete", "spellcheck", "inputmode"}
AWKWARD = "Siân O’Brien <b>&amp; \"quoted\" 'single' ١٢٣"


def _forms() -> list[type[forms.BaseForm]]:
    importlib.import_module("dsr.config.urls")  # first: it registers the URLs' converters
    for module in pkgutil.walk_packages(dsr.__path__, "dsr."):
        if ".migrations" not in module.name and not module.name.endswith("wsgi"):
            importlib.import_module(module.name)
    found = set()
    stack = [forms.BaseForm]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("dsr."):
                found.add(sub)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def _made(form_class: type[forms.BaseForm], data=None):
    """The form with no more than its data: a form that needs its place or person to be
    built is built with nothing in their place where that is enough."""
    params = inspect.signature(form_class.__init__).parameters
    extra = {
        name: None
        for name, p in params.items()
        if p.kind is p.KEYWORD_ONLY and p.default is inspect.Parameter.empty
    }
    try:
        return form_class(data, **extra) if data is not None else form_class(**extra)
    except Exception:  # noqa: BLE001 - a form that cannot be built bare is skipped
        return None


def _normal(html: str) -> str:
    html = re.sub(r"\s+", " ", str(html))
    return re.sub(r" ?([<>]) ?", r"\1", html).strip()


def _text_inputs(form) -> list[str]:
    names = []
    for name, field in form.fields.items():
        widget = field.widget
        if (
            isinstance(widget, Input)
            and not isinstance(widget, forms.HiddenInput | forms.CheckboxInput)
            and not isinstance(widget, forms.Select | forms.Textarea | forms.MultiWidget)
        ):
            names.append(name)
    return names


def _by_macro(bound: NHSBoundField) -> str:
    attributes = {k: v for k, v in bound.field.widget.attrs.items() if k not in EXCLUDED}
    return str(bound.render_nhs(attributes=attributes))  # any override: the macro's path


def _cases():
    for form_class in _forms():
        form = _made(form_class)
        if form is None:
            continue
        for name in _text_inputs(form):
            yield pytest.param(form_class, name, id=f"{form_class.__qualname__}.{name}")


CASES = list(_cases())


def test_the_forms_have_text_inputs_to_compare():
    assert len(CASES) >= 15


@pytest.mark.django_db
@pytest.mark.parametrize(("form_class", "name"), CASES)
def test_a_text_input_is_the_nhs_macros_markup(form_class, name):
    unbound = _made(form_class)
    assert _normal(unbound[name]) == _normal(_by_macro(unbound[name]))
    filled = _made(form_class, {name: AWKWARD})
    try:
        filled.errors  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - it needs its place to clean: the unbound case stands
        pytest.skip("the form cannot be cleaned without its place or person")
    assert _normal(filled[name]) == _normal(_by_macro(filled[name]))
    filled._errors, filled.cleaned_data = ErrorDict(), {}  # as after cleaning, no errors yet
    filled.add_error(name, "Enter a <real> value & try again")
    assert 'id="id_' in str(filled[name]) and "nhsuk-input--error" in str(filled[name])
    assert _normal(filled[name]) == _normal(_by_macro(filled[name]))


def test_a_form_without_ids_names_its_input_as_the_macro_does():
    from dsr.register.forms import RegisterFilterForm

    form = RegisterFilterForm({"q": AWKWARD}, auto_id=False)
    assert 'id="q"' in str(form["q"])
    assert _normal(form["q"]) == _normal(_by_macro(form["q"]))
