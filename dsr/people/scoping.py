"""The only door to people: what the current user may see in the current place.

Partners see only people whose care network includes them. The care network
arrives in a later step; until then a partner sees nobody (fail closed).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest

from dsr.core import audit
from dsr.core.access import Role
from dsr.people.models import Person, PersonQuerySet


def people_for(membership: Any) -> PersonQuerySet:
    """Everyone this membership may see: its place, and for partners their network only."""
    if membership is None:
        return Person.objects.none()
    people = Person.objects.filter(place_id=membership.place_id)
    if membership.role == Role.PARTNER:
        return people.none()
    return people


def visible_people(request: HttpRequest) -> PersonQuerySet:
    return people_for(getattr(request, "membership", None))


def get_person_or_404(request: HttpRequest, person_id: int) -> Person:
    """The person if in scope; otherwise 404, and a denied event if the record exists."""
    person = visible_people(request).select_related("place").filter(pk=person_id).first()
    if person is not None:
        return person
    # The one unscoped look-up: to audit a refused attempt at a real record.
    if Person.objects.filter(pk=person_id).exists():
        audit.record_denied(request=request, reason="outside scope", person_id=person_id)
    raise Http404("Not found")
