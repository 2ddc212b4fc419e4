from django.core.management import call_command

from dsr.core import nhs_number
from dsr.core.access import Role
from dsr.core.verify import verify
from dsr.demo import data
from dsr.people.choices import Accommodation
from dsr.people.models import Person
from dsr.places.models import Membership, Place


def test_demo_builds_a_fictional_place_with_every_age_accommodation_and_role(db, capsys):
    call_command("load_demo")
    place = Place.objects.get(name=data.DEMO_PLACE)
    people = Person.objects.filter(place=place)
    assert 55 <= people.count() <= 65
    assert {p.age for p in people} == set(range(25))
    assert {p.accommodation for p in people} == set(Accommodation.values)
    assert {m.role for m in Membership.objects.filter(place=place)} == set(Role.values)
    numbers = [p.nhs_number for p in Person.objects.exclude(nhs_number="")]
    assert numbers and all(n.startswith("999") and nhs_number.is_valid(n) for n in numbers)
    assert verify().intact
    out = capsys.readouterr().out
    assert all(email in out for email, *_ in data.USERS)
    call_command("verify_audit")  # checkpointed as it was loaded: no --without-checkpoints
    assert "Audit trail intact" in capsys.readouterr().out
    # The partner sees the people whose care network includes them, and owns actions there
    from dsr.people.models import NetworkMember

    partner = Membership.objects.get(place=place, role=Role.PARTNER).user
    assert NetworkMember.objects.filter(user=partner).count() >= 5
    # Names with accents and apostrophes, to search for without them
    assert Person.objects.filter(place=place, search_name__contains=" o").exists()


def test_loading_the_demo_twice_changes_nothing(db):
    call_command("load_demo")
    count = Person.objects.count()
    call_command("load_demo")
    assert Person.objects.count() == count


def test_the_demo_has_something_on_every_step_6_page(db):
    from dsr.keywork.models import Allocation, Contact
    from dsr.people.choices import ConsentState
    from dsr.people.models import Circumstance, NetworkMember
    from dsr.referrals.models import Referral, Source, Status

    call_command("load_demo")
    place = Place.objects.get(name=data.DEMO_PLACE)
    referrals = Referral.objects.filter(place=place)
    assert {r.status for r in referrals} == set(Status.values)
    assert {r.source for r in referrals} == set(Source.values)
    assert Person.objects.filter(place=place, consent_state=ConsentState.WITHDRAWN).count() == 1
    assert Person.objects.filter(place=place, consent_state=ConsentState.GIVEN).count() > 30
    keyworker = Membership.objects.get(place=place, role=Role.KEYWORKER).user
    assert Allocation.objects.current().filter(keyworker=keyworker).count() >= 5
    assert Contact.objects.filter(place=place).exists()
    assert NetworkMember.objects.filter(place=place, kind="family").exists()
    assert Circumstance.objects.filter(place=place).count() > 30
    assert verify().intact
