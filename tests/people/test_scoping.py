"""Place scoping is structural: nothing of place B reaches a user of place A."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dsr.core import nhs_number
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from tests.core.test_access import concrete_url, is_person_route, walk
from tests.helpers import register_count


def test_a_user_of_place_a_gets_404_for_every_place_b_person_url(client_for, person_b):
    client = client_for(Role.COORDINATOR)
    person_routes = [(r, n) for r, n, _ in walk() if is_person_route(r)]
    assert person_routes
    for route, name in person_routes:
        url = concrete_url(name, route, person_b.pk)
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"version": 1}).status_code in {404, 405}, url


def test_every_refused_attempt_at_an_existing_record_leaves_one_denied_event(client_for, person_b):
    client = client_for(Role.COORDINATOR)
    client.get(reverse("people:detail", args=[person_b.pk]))
    events = AuditEvent.objects.filter(action="denied", person_id=person_b.pk)
    assert events.count() == 1
    assert events.get().changes["reason"] == "outside scope"


def test_a_missing_record_is_a_plain_404_without_a_person_in_the_audit(coordinator, db):
    assert coordinator.get(reverse("people:detail", args=[999_999])).status_code == 404
    assert not AuditEvent.objects.filter(action="denied", person_id=999_999).exists()


@pytest.mark.parametrize("query", ["", "Brook", "Bella"])
def test_the_register_and_its_search_never_show_another_places_people(
    client_for, person_a, person_b, query
):
    client = client_for(Role.COORDINATOR)
    for status in ("open", "closed", "all"):
        body = client.get(
            reverse("people:register"), {"q": query, "status": status}
        ).content.decode()
        assert "BROOK" not in body
        assert nhs_number.display(person_b.nhs_number) not in body


def test_searching_another_places_nhs_number_finds_nothing(client_for, person_b):
    client = client_for(Role.COORDINATOR)
    response = client.get(reverse("people:register"), {"q": person_b.nhs_number})
    assert register_count(response) == 0


def test_a_partner_sees_nobody_until_they_are_in_a_care_network(client_for, person_a):
    client = client_for(Role.PARTNER)
    response = client.get(reverse("people:register"))
    assert response.status_code == 200
    assert register_count(response) == 0
    assert client.get(reverse("people:detail", args=[person_a.pk])).status_code == 404


def test_a_user_with_no_membership_sees_no_place(client_for, person_a):
    client = client_for("nobody")
    response = client.get(reverse("home"))
    assert "do not have access to a place" in response.content.decode()
    assert client.get(reverse("people:register")).status_code == 404


def test_switching_to_a_place_you_do_not_belong_to_is_a_404(client_for, place_b):
    client = client_for(Role.COORDINATOR)
    assert client.post(reverse("places:switch"), {"place": place_b.pk}).status_code == 404
    assert client.post(reverse("places:switch"), {"place": "x"}).status_code == 404


def test_a_user_in_two_places_switches_and_sees_only_the_chosen_place(
    cast, client_for, place_b, person_a, person_b
):
    from dsr.places import services as places
    from tests.factories import SYSTEM

    user = cast[Role.COORDINATOR]
    places.grant_membership(user=user, place=place_b, role=Role.VIEWER, by=SYSTEM)
    client = client_for(Role.COORDINATOR)
    client.post(reverse("places:switch"), {"place": place_b.pk})
    body = client.get(reverse("people:register")).content.decode()
    assert "BROOK" in body and "ASHBY" not in body
    # a viewer there: cannot add people
    assert client.get(reverse("people:new")).status_code == 404
