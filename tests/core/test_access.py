"""Every route declares its rule; the access table decides every answer."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dsr.actions.models import Action
from dsr.core.access import ACCESS, Permission, Role, Rule
from dsr.core.models import AuditEvent
from dsr.people.models import Person


def walk(patterns=None, prefix="", namespace=""):
    """(route, view name with namespace, pattern) for every URL in the URL conf."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace + (entry.name or ""), entry


def concrete_url(name: str, route: str, person_id: int) -> str:
    """The route filled in with the person's ids (and their first action's)."""
    kwargs = {}
    if "<int:person_id>" in route:
        kwargs["person_id"] = person_id
    if "<int:action_id>" in route:
        kwargs["action_id"] = Action.objects.filter(person_id=person_id).values_list(
            "id", flat=True
        )[0]
    return reverse(name, kwargs=kwargs or None)


def is_person_route(route: str) -> bool:
    return "<int:person_id>" in route or "<int:action_id>" in route


def test_every_route_declares_an_access_rule():
    undeclared = [
        route for route, _name, entry in walk() if not hasattr(entry.callback, "access_rule")
    ]
    assert undeclared == [], f"Routes with no access rule: {undeclared}"


def test_every_permission_rule_names_a_permission_in_the_table():
    granted = set().union(*ACCESS.values())
    for route, _name, entry in walk():
        if entry.callback.access_rule is Rule.PERMISSION:
            assert entry.callback.access_permission in granted, route


def test_every_role_has_an_entry_in_the_access_table():
    assert set(ACCESS) == set(Role)


def test_auditor_cannot_edit_care_data():
    care_writes = {Permission.ADD_PERSON, Permission.EDIT_PERSON, Permission.CLOSE_PERSON}
    assert not (ACCESS[Role.AUDITOR] & care_writes)


def expected_answer(role: Role, route: str, entry, method: str) -> set[int]:
    """What the access table says this role gets from this route, by method."""
    rule = entry.callback.access_rule
    if rule is not Rule.PERMISSION:
        return {200, 302, 405}
    allowed = entry.callback.access_permission in ACCESS[role]
    # Partners see only people in their care network: none yet.
    if role is Role.PARTNER and is_person_route(route):
        allowed = False
    if not allowed:
        return {404}
    return {200, 302, 405} if method == "post" else {200}


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_access_table_allows(role, method, client_for, person_a):
    client = client_for(role)
    for route, name, entry in walk():
        if name == "accounts:sign_out":
            continue  # would end this client's session part-way through the walk
        url = concrete_url(name, route, person_a.pk)
        denied_before = AuditEvent.objects.filter(action="denied").count()
        data = {"place": person_a.place_id} if name == "places:switch" else {}
        response = getattr(client, method)(url, data)
        expected = expected_answer(role, route, entry, method)
        assert response.status_code in expected, (role, method, url, response.status_code)
        if expected == {404}:
            # every refused attempt leaves exactly one denied event
            assert AuditEvent.objects.filter(action="denied").count() == denied_before + 1, url


@pytest.mark.parametrize("method", ["get", "post"])
def test_signed_out_visitors_are_sent_to_sign_in_from_every_protected_route(
    client, person_a, method
):
    for route, name, entry in walk():
        if entry.callback.access_rule is Rule.PUBLIC:
            continue
        url = concrete_url(name, route, person_a.pk)
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:sign_in")), url
    assert not Person.objects.exclude(pk=person_a.pk).exists()


def test_a_refusal_by_role_is_a_404_and_is_audited(client_for, person_a):
    client = client_for(Role.AUDITOR)
    response = client.get(reverse("people:detail", args=[person_a.pk]))
    assert response.status_code == 404
    denied = AuditEvent.objects.filter(action="denied", person_id=person_a.pk)
    assert denied.count() == 1


def test_every_page_about_a_person_audits_the_read(client_for, person_a):
    client = client_for(Role.COORDINATOR)
    for route, name, entry in walk():
        if not is_person_route(route) or entry.callback.access_rule is not Rule.PERMISSION:
            continue
        viewed = AuditEvent.objects.filter(action="viewed", person_id=person_a.pk)
        before = viewed.count()
        assert client.get(concrete_url(name, route, person_a.pk)).status_code == 200, route
        assert viewed.count() == before + 1, route
