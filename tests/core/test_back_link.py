"""The back link every detail and form page opens with (config/jinja2.py `back_link`, the
templates' `backLink`) is the NHS back-link component's markup, whitespace apart, whatever the
link holds; parameters it does not write itself go to the package's macro."""

from __future__ import annotations

import pytest
from django.template import engines

from tests.core.test_forms_input import _normal

LINKS = [
    {"href": "/places/1/people/2/", "text": "Back"},
    {"href": '/a?q=o"brien<b>&amp;&status=all', "text": "Back to Siân O’Brien <b> & “co” 'x' ١٢٣"},
    {"href": "/places/1/", "text": ""},
    {"href": "/places/1/"},
    {"href": "", "text": "Back"},
    {"href": "/places/1/", "text": "Back", "classes": "nhsuk-u-margin-bottom-0"},
]


def _macro(params) -> str:
    env = engines["jinja2"].env
    module = env.get_template("nhsuk/components/back-link/macro.jinja").module
    return str(module.backLink(params))


def _ours(params) -> str:
    return engines["jinja2"].env.from_string("{{ backLink(p) }}").render(p=params)


@pytest.mark.parametrize("params", LINKS)
def test_a_back_link_is_the_nhs_components_markup(params):
    assert _normal(_ours(params)) == _normal(_macro(params))


def test_the_text_and_the_address_are_escaped():
    html = _ours(LINKS[1])
    assert "<b>" not in html and 'href="/a?q=o&#34;brien&lt;b&gt;&amp;amp;&amp;status=all"' in html
