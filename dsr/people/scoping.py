"""The doors to people and their care networks: who may see whom (ADR 0002, ADR 0009).

Everyone in a place sees its people, except partners, who see only the people whose care
network includes them (a current network member linked to their user).
"""

from __future__ import annotations

from typing import Any

from dsr.core.access import Role
from dsr.core.door import Door
from dsr.people.models import NetworkMember, Person, PersonQuerySet


def people_for(membership: Any) -> PersonQuerySet:
    """The visibility rule for people: everyone other records' doors build on."""
    people = Person.objects.filter(place_id=membership.place_id)
    if membership.role == Role.PARTNER:
        in_network = NetworkMember.objects.current().filter(user_id=membership.user_id)
        return people.filter(pk__in=in_network.values("person_id"))
    return people


def _network_for(membership: Any) -> Any:
    return NetworkMember.objects.filter(person__in=people_for(membership))


PEOPLE: Door[Person] = Door(Person, scope=people_for, person="pk", related=["place__settings"])
NETWORK: Door[NetworkMember] = Door(NetworkMember, scope=_network_for)
