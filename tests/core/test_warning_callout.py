"""The warning callout (config/jinja2.py `warning_callout`, the templates' `warningCallout`)
is the NHS warning-callout component's markup, whitespace apart, whatever its heading and
body hold; parameters it does not write itself go to the package's macro."""

from __future__ import annotations

import pytest
from django.template import engines
from markupsafe import Markup

from tests.core.test_forms_input import _normal

CALLOUTS = [
    ({"heading": "Key information to keep Siân safe"}, "<p>Line one\nline two</p>"),
    ({"heading": "Key information to keep <b>O’Brien</b> & “co” 'x' ١٢٣ safe"}, "<p>&lt;b&gt;</p>"),
    ({"heading": "Important: read this first"}, "<p>Already says important</p>"),
    ({"heading": "This is important"}, ""),
    ({"heading": ""}, "<p>No heading</p>"),
    ({"heading": "Review now", "headingLevel": 2}, "<p>A level of its own</p>"),
]


def _macro(params, body) -> str:
    env = engines["jinja2"].env
    module = env.get_template("nhsuk/components/warning-callout/macro.jinja").module
    return str(module.warningCallout(params, caller=lambda: Markup(body)))


def _ours(params, body) -> str:
    template = "{% call warningCallout(p) %}{{ body | safe }}{% endcall %}"
    return engines["jinja2"].env.from_string(template).render(p=params, body=body)


@pytest.mark.parametrize(("params", "body"), CALLOUTS)
def test_a_warning_callout_is_the_nhs_components_markup(params, body):
    assert _normal(_ours(params, body)) == _normal(_macro(params, body))


def test_the_heading_is_escaped_and_the_body_is_the_callers():
    html = _ours(*CALLOUTS[1])
    assert "<b>O" not in html and "&lt;b&gt;O’Brien&lt;/b&gt; &amp; “co” &#39;x&#39;" in html
    assert "<p>&lt;b&gt;</p>" in html


def test_without_a_body_it_is_the_macros_own():
    template = '{{ warningCallout({"heading": "Careful", "text": "Mind the step"}) }}'
    html = engines["jinja2"].env.from_string(template).render()
    assert "Mind the step" in html and "nhsuk-card--warning" in html
