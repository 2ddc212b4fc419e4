"""The doors to people and their care networks: who may see whom (ADR 0002, ADR 0009).

Everyone in a place sees its people, except partners, who see only the people whose care
network includes them (a current network member linked to their user).
"""

from __future__ import annotations

import functools
from typing import Any

from django.db.models import Max, Q

from dsr.core.access import Role
from dsr.core.door import Door
from dsr.people import sharing
from dsr.people.models import Circumstance, NetworkMember, Person, PersonQuerySet


def _in_network(membership: Any) -> Any:
    return NetworkMember.objects.current().filter(user_id=membership.user_id).values("person_id")


def visible(membership: Any, *, person: str = "person", own_place: str = "") -> Q:
    """The visibility rule, as a filter on records about a person: the rule every care
    model's door is built on. `person` is the path to the person. A record with a place
    column of its own (`own_place`) must agree with its person's place as well: the column
    lets an index serve the filter, the person's place keeps the rule the person's.
    A withdrawn-consent person's records go to coordinators only (people/sharing.py)."""
    rule = Q(**{f"{person}__place_id": membership.place_id})
    if own_place:
        rule &= Q(**{own_place: membership.place_id})
    if membership.role == Role.PARTNER:
        rule &= Q(**{f"{person}__in": _in_network(membership)})
    return rule & sharing.shareable(sharing.Audience.of_membership(membership), person=person)


def still_visible(membership: Any, person: Any) -> bool:
    """`visible`'s part about the person, for a person the people door has given this
    membership (which checked their place and care network in the database): their place,
    and sharing asked of them as read (`may_share`, which `shareable` mirrors)."""
    audience = sharing.Audience.of_membership(membership)
    return bool(person.place_id == membership.place_id and sharing.may_share(person, audience))


def follows_person(model: type[Any], *, own_place: str = "") -> dict[str, Any]:
    """A door's rules for records seen by whoever may see their person (`visible`), as
    `Door(model, **follows_person(model, ...))`: `scope` for any read, and `about_scope`
    for the records about a person the people door has given the viewer. That door checked
    the person's place and care network in the database; sharing is asked of the person as
    read (`may_share`, which `shareable` mirrors), so the rows are the same without joining
    the person again. One rule, declared once, gives both."""
    manager = model._default_manager

    def scope(membership: Any) -> Any:
        return manager.filter(visible(membership, own_place=own_place))

    # The rule for a place, built once a process (the ORM's building of a filter costs more
    # than running it): a queryset is only a query until fetched, and Door.about narrows a
    # clone of it to the person, never this one (make bench, the person page's panels).
    @functools.lru_cache(maxsize=256)
    def in_place(place_id: int) -> Any:
        return manager.filter(**{own_place: place_id}) if own_place else manager.all()

    def about_scope(membership: Any, person: Any) -> Any:
        if not still_visible(membership, person):
            return manager.none()
        return in_place(membership.place_id)

    return {"scope": scope, "about_scope": about_scope}


def people_for(membership: Any) -> PersonQuerySet:
    """Everyone this membership may see. Restricted people stay in scope so that their page
    can say the record is restricted (sharing.withheld keeps every other page from them);
    the door's lists leave them out (PEOPLE's `listed`), unless a caller asks to count them."""
    people = Person.objects.filter(place_id=membership.place_id)
    if membership.role == Role.PARTNER:
        people = people.filter(pk__in=_in_network(membership))
    return people


def latest_circumstances(person_id: int) -> Any:
    """The latest entry in each area for a person, as a subquery of ids (a circumstance's
    date never goes back within its area, so the latest id is the latest date)."""
    return (
        Circumstance.objects.filter(person_id=person_id)
        .order_by()
        .values("area")
        .annotate(latest=Max("id"))
        .values("latest")
    )


PEOPLE: Door[Person] = Door(
    Person,
    scope=people_for,
    person="pk",
    admit=sharing.withheld,
    viewers_place=True,  # people_for: the viewer's place only
    listed=lambda viewer: sharing.shareable(sharing.Audience.of(viewer)),
)
NETWORK: Door[NetworkMember] = Door(
    NetworkMember,
    **follows_person(NetworkMember, own_place="place_id"),
    related=["person", "organisation", "user"],
)
CIRCUMSTANCES: Door[Circumstance] = Door(
    Circumstance, **follows_person(Circumstance, own_place="place_id")
)


def count_open(place_id: int, *conditions: Q, **lookups: Any) -> int:
    """How many open records in the place match: a number, never a person (nothing to
    audit, nothing a place admin may not see). For what a settings change affects."""
    return Person.objects.open().filter(*conditions, place_id=place_id, **lookups).count()


# Facts for a tracker meeting's agenda (meetings/services.py `gather`): values, never shown
# as they are; the agenda that uses them records the people it puts on it.


def rated_for_review(place_id: int, *, due_by: Any) -> list[tuple[Any, ...]]:
    """Open records rated Red or Blue, or Amber with a review due by `due_by`:
    (id, rating, rated on, review due)."""
    return list(
        Person.objects.open()
        .filter(place_id=place_id)
        .filter(Q(current_rating__in=["R", "B"]) | Q(current_rating="A", review_due__lte=due_by))
        .order_by()
        .values_list("pk", "current_rating", "rated_on", "review_due")
    )


def born_within(place_id: int, rule: Q) -> list[tuple[Any, ...]]:
    """Open records whose date of birth meets `rule` (people/transitions.py): (id, born)."""
    return list(
        Person.objects.open()
        .filter(rule, place_id=place_id)
        .order_by()
        .values_list("pk", "date_of_birth")
    )


def closed_between(place_id: int, after: Any, until: Any) -> list[tuple[Any, ...]]:
    """Records closed after `after` up to `until`: (id, closed on, reason code)."""
    return list(
        Person.objects.filter(
            place_id=place_id, status="closed", closed_on__gt=after, closed_on__lte=until
        )
        .order_by()
        .values_list("pk", "closed_on", "closure_reason")
    )


def sort_names(person_ids: list[int]) -> dict[int, str]:
    """What a list sorts people by (family name, given name), folded: never shown."""
    return {
        pk: f"{family.casefold()} {given.casefold()}"
        for pk, family, given in Person.objects.filter(pk__in=person_ids).values_list(
            "pk", "family_name", "given_name"
        )
    }
