"""The only door to people: what the current user may see in the current place.

Partners see only people whose care network includes them. The care network
arrives in a later step; until then a partner sees nobody (fail closed).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest

from dsr.core import audit
from dsr.core.access import Role
from dsr.people.models import Person, PersonQuerySet


def visible_people(request: HttpRequest) -> PersonQuerySet:
    place = getattr(request, "place", None)
    membership = getattr(request, "membership", None)
    if place is None or membership is None:
        return Person.objects.none()
    people = Person.objects.in_place(place)
    if membership.role == Role.PARTNER:
        return people.none()
    return people


def get_person_or_404(request: HttpRequest, person_id: int) -> Person:
    """The person if in scope; otherwise 404, and a denied event if the record exists."""
    person = visible_people(request).select_related("place").filter(pk=person_id).first()
    if person is not None:
        return person
    # The one unscoped look-up: to audit a refused attempt at a real record.
    if Person.objects.filter(pk=person_id).exists():
        audit.record_denied(request=request, reason="outside scope", person_id=person_id)
    raise Http404("Not found")
