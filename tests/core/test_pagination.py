"""The register's previous and next links (config/jinja2.py `pagination_links`) are the NHS
pagination component's markup, whitespace apart, whatever the links hold."""

from __future__ import annotations

import pytest
from django.template import engines

from tests.core.test_forms_input import _normal

LINKS = [
    {"href": "?q=si%C3%A2n&page=2", "labelText": "Page 2 of 50"},
    {"href": '?q=o"brien<b>&amp;&status=all', "labelText": "Page <1> of “3” & more"},
    {"href": "?page=1", "labelText": ""},
]


def _macro(previous, after) -> str:
    env = engines["jinja2"].env
    module = env.get_template("nhsuk/components/pagination/macro.jinja").module
    return str(module.pagination({"previous": previous, "next": after}))


def _ours(previous, after) -> str:
    env = engines["jinja2"].env
    return env.from_string("{{ pagination_links(p, n) }}").render(p=previous, n=after)


@pytest.mark.parametrize("previous", [None, *LINKS])
@pytest.mark.parametrize("after", [None, *LINKS])
def test_the_links_are_the_nhs_components_markup(previous, after):
    assert _normal(_ours(previous, after)) == _normal(_macro(previous, after))


def test_a_register_page_of_many_shows_both_links(coordinator, place_a):
    from tests import factories
    from tests.helpers import at

    for _ in range(120):
        factories.make_person(place_a)
    page = coordinator.get(at(place_a, "register:list"), {"page": 2}).content.decode()
    assert 'rel="prev"' in page and 'rel="next"' in page and "Page 3 of 3" in page
