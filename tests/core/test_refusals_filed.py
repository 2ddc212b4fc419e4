"""A refusal at a record is filed where the record is held and names its person, whichever
check refused it: the door (another place's record), the role (a viewer at an edit page)
or the membership (someone from another place). An information-governance review found the
last two filed under the URL's place, naming nobody: a search by the person, or their
"who has accessed this record", did not find them."""

from __future__ import annotations

import pytest

from dsr.core import audit
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from tests import factories
from tests.helpers import at
from tests.hospital.factories import admit, request_cetr


def _allocated(person):
    """A keyworker allocated to the person (rated Red, with a network member, as
    eligibility asks)."""
    from dsr.core import dates
    from dsr.keywork import services as keywork
    from dsr.people import services as people
    from dsr.places.models import Membership
    from dsr.risk import services as risk
    from tests.factories import SYSTEM

    risk.rate(person=person, rating="R", rationale="Crisis", by=SYSTEM)

    people.add_network_member(
        person=person, name="Ola SENCO", job_title="SENCO", started_on=dates.today(), by=SYSTEM
    )
    keyworker = Membership.objects.get(place=person.place, role=Role.KEYWORKER).user
    return keywork.allocate_keyworker(person=person, keyworker=keyworker, by=SYSTEM)


def _since() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _denied(since: int) -> list[tuple[int | None, int | None]]:
    refused = AuditEvent.objects.filter(pk__gt=since, action="denied").order_by("pk")
    return list(refused.values_list("person_id", "place_id"))


@pytest.mark.parametrize(
    ("who", "page"),
    [
        (Role.VIEWER, lambda person: at(admit(person), "hospital:edit")),
        (Role.AUDITOR, lambda person: at(request_cetr(person), "reviews:cetr")),
        (Role.AUDITOR, lambda person: at(person, "register:person")),
        ("outsider", lambda person: at(person, "register:person")),
        ("outsider", lambda person: at(admit(person), "hospital:edit")),
        (Role.KEYWORKER, lambda person: at(_allocated(person), "keywork:allocation_end")),
    ],
    ids=[
        "viewer at a stay",
        "auditor at a C(E)TR",
        "auditor at a record",
        "outsider",
        "outsider at a stay",
        "keyworker ending an allocation",
    ],
)
def test_a_refusal_at_a_record_names_its_person(client_for, person_a, place_a, who, page):
    url = page(person_a)
    since = _since()
    assert client_for(who).get(url).status_code == 404
    assert _denied(since) == [(person_a.pk, place_a.pk)]
    assert audit.events_about(person_a.pk).filter(pk__gt=since, action="denied").exists()


def test_every_refusal_at_another_places_record_is_filed_with_that_place(
    client_for, person_b, place_a, place_b
):
    stay = admit(person_b)
    url = at(place_a, "hospital:edit", stay.pk)  # place A's address, place B's stay
    since = _since()
    assert client_for(Role.COORDINATOR).get(url).status_code == 404  # the door refuses
    assert client_for(Role.VIEWER).get(url).status_code == 404  # the role refuses
    assert _denied(since) == [(person_b.pk, place_b.pk), (person_b.pk, place_b.pk)]


def test_a_refusal_at_a_record_of_no_one_is_filed_with_its_place(client_for, place_a, place_b):
    referral = factories.make_referral(place_b)
    url = at(place_a, "referrals:detail", referral.pk)
    since = _since()
    assert client_for(Role.VIEWER).get(url).status_code == 404
    assert _denied(since) == [(None, place_b.pk)]
    since = _since()  # an id that names nothing: the URL's place, as before
    assert client_for(Role.VIEWER).get(at(place_a, "referrals:detail", 999_999)).status_code == 404
    assert _denied(since) == [(None, place_a.pk)]
