"""Place scoping is structural: nothing of place B reaches a user of place A."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dsr.core import nhs_number
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.places import services as places
from tests import factories
from tests.core.test_access import concrete_url, is_person_route, walk
from tests.factories import SYSTEM
from tests.helpers import at, readable, register_count


def test_a_user_of_place_a_gets_404_for_every_place_b_person_url(client_for, place_a, person_b):
    """In their own place's pages (B's record is not in A's scope) and in B's pages (they
    are not a member of B)."""
    client = client_for(Role.COORDINATOR)
    person_routes = [(r, n) for r, n, _ in walk() if is_person_route(r)]
    assert person_routes
    for place in (place_a, person_b.place):
        for route, name in person_routes:
            url = concrete_url(name, route, place_id=place.pk, person_id=person_b.pk)
            assert client.get(url).status_code == 404, url
            assert client.post(url, {"version": 1}).status_code in {404, 405}, url


def test_every_refused_attempt_at_an_existing_record_leaves_one_denied_event(
    client_for, place_a, person_b
):
    client = client_for(Role.COORDINATOR)
    client.get(at(place_a, "register:person", person_b.pk))
    events = AuditEvent.objects.filter(action="denied", person_id=person_b.pk)
    assert events.count() == 1
    event = events.get()
    assert event.changes["reason"] == "outside scope"
    # recorded against the place that holds the record, so its auditors see the attempt
    assert event.place_id == person_b.place_id


def test_a_missing_record_is_a_plain_404_without_a_person_in_the_audit(coordinator, place_a):
    assert coordinator.get(at(place_a, "register:person", 999_999)).status_code == 404
    assert not AuditEvent.objects.filter(action="denied", person_id=999_999).exists()


@pytest.mark.parametrize("query", ["", "Brook", "Bella"])
def test_the_register_and_its_search_never_show_another_places_people(
    client_for, place_a, person_a, person_b, query
):
    client = client_for(Role.COORDINATOR)
    for status in ("open", "closed", "all"):
        body = client.get(
            at(place_a, "register:list"), {"q": query, "status": status}
        ).content.decode()
        assert "BROOK" not in body
        assert nhs_number.display(person_b.nhs_number) not in body


def test_searching_another_places_nhs_number_finds_nothing(client_for, place_a, person_b):
    client = client_for(Role.COORDINATOR)
    response = client.get(at(place_a, "register:list"), {"q": person_b.nhs_number})
    assert register_count(response) == 0


def test_a_partner_sees_only_the_people_whose_care_network_includes_them(
    cast, client_for, place_a, person_a
):
    client = client_for(Role.PARTNER)
    other = factories.make_person(place_a, given_name="Olly", family_name="Other")
    response = client.get(at(place_a, "register:list"))
    assert response.status_code == 200 and register_count(response) == 0
    assert "once the DSR team adds you to their care network" in response.content.decode()
    assert client.get(at(person_a, "register:person")).status_code == 404

    factories.in_network(person_a, cast[Role.PARTNER])
    body = client.get(at(place_a, "register:list")).content.decode()
    assert "ASHBY" in body and "OTHER" not in body
    assert client.get(at(person_a, "register:person")).status_code == 200
    assert client.get(at(other, "register:person")).status_code == 404


def test_a_user_with_no_membership_sees_no_place(client_for, place_a, person_a):
    client = client_for("nobody")
    response = client.get(reverse("home"))
    assert "do not have access to a place" in response.content.decode()
    assert client.get(at(place_a, "register:list")).status_code == 404


def test_switching_to_a_place_you_do_not_belong_to_is_a_404(client_for, place_b):
    client = client_for(Role.COORDINATOR)
    assert client.post(reverse("switch_place"), {"place": place_b.pk}).status_code == 404
    assert client.post(reverse("switch_place"), {"place": "x"}).status_code == 404


def test_a_user_in_two_places_works_in_both_side_by_side(
    cast, client_for, place_a, place_b, person_a, person_b
):
    """The place travels with the page: two tabs on two places, no switching between."""
    user = cast[Role.COORDINATOR]
    places.grant_membership(user=user, place=place_b, role=Role.VIEWER, by=SYSTEM)
    client = client_for(Role.COORDINATOR)
    in_b = client.get(at(place_b, "register:list")).content.decode()
    in_a = client.get(at(place_a, "register:list")).content.decode()
    assert "BROOK" in in_b and "ASHBY" not in in_b
    assert "ASHBY" in in_a and "BROOK" not in in_a
    # each place with its own role: a viewer in B cannot add people there, but can in A
    assert client.get(at(place_b, "register:add")).status_code == 404
    assert client.get(at(place_a, "register:add")).status_code == 200
    # the switcher goes to the chosen place's pages, and home remembers the last place used
    response = client.post(reverse("switch_place"), {"place": place_b.pk})
    assert response["Location"] == at(place_b, "places:home")
    client.get(at(place_b, "register:list"))
    assert client.get(reverse("home"))["Location"] == at(place_b, "places:home")


def test_a_save_in_one_tab_is_not_lost_when_another_tab_works_in_another_place(
    cast, client_for, place_a, place_b, person_a
):
    user = cast[Role.COORDINATOR]
    places.grant_membership(user=user, place=place_b, role=Role.VIEWER, by=SYSTEM)
    client = client_for(Role.COORDINATOR)
    # tab 1 opens A's edit form; tab 2 moves to B
    client.get(at(person_a, "people:edit"))
    client.post(reverse("switch_place"), {"place": place_b.pk})
    client.get(at(place_b, "register:list"))
    # tab 1 saves: the form's address names place A, so the save lands in A
    from tests.people.test_views import edit_data

    response = client.post(at(person_a, "people:edit"), edit_data(person_a, preferred_name="Al"))
    assert response.status_code == 302
    person_a.refresh_from_db()
    assert person_a.preferred_name == "Al"
    assert not AuditEvent.objects.filter(action="denied").exists()


def test_a_partner_sees_no_one_outside_their_network_on_any_page(client_for, cast, place_a):
    """Every page a partner can open, with the records of someone outside their network in
    every URL and their name searched for: that person never appears (DOMAIN.md)."""
    from dsr.core.access import Rule
    from tests.core.test_access import build_world

    inside = factories.make_person(place_a, given_name="Inside", family_name="Network")
    build_world(inside, partner=cast[Role.PARTNER], keyworker=cast[Role.KEYWORKER])
    outside = factories.make_person(place_a, given_name="Ottilie", family_name="Faraway")
    other_partner = factories.make_user(place=place_a, role=Role.PARTNER)
    world = build_world(outside, partner=other_partner, keyworker=cast[Role.KEYWORKER])
    client = client_for(Role.PARTNER)
    secrets = ["Ottilie", "Faraway", "FARAWAY", outside.nhs_number]
    saw_inside = 0
    for route, name, entry in walk():
        if name in ("accounts:sign_out", "switch_place") or entry.callback.access_rule is (
            Rule.PUBLIC
        ):
            continue
        url = concrete_url(name, route, place_id=place_a.pk, ids=world.ids())
        for query in ({}, {"q": "Faraway"}, {"q": outside.nhs_number}, {"status": "all"}):
            body = readable(client.get(url, query))
            typed = query.get("q", "")
            shown = [s for s in secrets if s in body and s.lower() != typed.lower()]
            assert not shown, (url, query, shown)
            saw_inside += "NETWORK, Inside" in body
    assert saw_inside  # the walk does show people: the one in their network
