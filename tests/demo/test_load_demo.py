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
