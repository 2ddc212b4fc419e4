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


def test_page_links_keep_the_search_and_filters_and_show_nothing_on_one_page(rf):
    from django.core.paginator import Paginator

    env = engines["jinja2"].env
    render = env.from_string("{{ page_links(page, request) }}").render
    request = rf.get("/", {"q": "Siân", "status": "all", "page": "2"})
    page = Paginator(list(range(75)), 25).get_page(2)
    html = render(page=page, request=request)
    assert 'href="?q=Si%C3%A2n&amp;status=all&amp;page=1"' in html
    assert 'href="?q=Si%C3%A2n&amp;status=all&amp;page=3"' in html
    assert "Page 1 of 3" in html and "Page 3 of 3" in html
    assert _normal(html) == _normal(
        _macro(
            {"href": "?q=Si%C3%A2n&status=all&page=1", "labelText": "Page 1 of 3"},
            {"href": "?q=Si%C3%A2n&status=all&page=3", "labelText": "Page 3 of 3"},
        )
    )
    first = render(page=Paginator(list(range(75)), 25).get_page(1), request=rf.get("/"))
    assert 'rel="prev"' not in first and 'href="?page=2"' in first
    assert render(page=Paginator(list(range(5)), 25).get_page(1), request=request) == ""
