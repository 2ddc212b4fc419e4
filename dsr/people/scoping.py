"""The doors to people and their care networks: who may see whom (ADR 0002, ADR 0009).

Everyone in a place sees its people, except partners, who see only the people whose care
network includes them (a current network member linked to their user).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from dsr.core.access import Role
from dsr.core.door import Door
from dsr.people.models import NetworkMember, Person, PersonQuerySet


def visible(membership: Any, *, person: str = "person", place: str = "") -> Q:
    """The visibility rule, as a filter on records about a person: the rule every care
    model's door is built on. `person` is the path to the person; `place`, the record's own
    place column where it has one (an index on it serves the filter without a join)."""
    rule = Q(**{place or f"{person}__place_id": membership.place_id})
    if membership.role == Role.PARTNER:
        network = NetworkMember.objects.current().filter(user_id=membership.user_id)
        rule &= Q(**{f"{person}__in": network.values("person_id")})
    return rule


def people_for(membership: Any) -> PersonQuerySet:
    """Everyone this membership may see."""
    return Person.objects.filter(visible(membership, person="pk", place="place_id"))


PEOPLE: Door[Person] = Door(Person, scope=people_for, person="pk", related=["place__settings"])
NETWORK: Door[NetworkMember] = Door(
    NetworkMember,
    scope=lambda membership: NetworkMember.objects.filter(visible(membership, place="place_id")),
)
