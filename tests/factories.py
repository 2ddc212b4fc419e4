"""Test data, built through the same services as real data (STYLE.md)."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from dsr.accounts.models import User
from dsr.core import audit, dates, nhs_number
from dsr.core.access import Role
from dsr.people import services as people
from dsr.people.models import Person
from dsr.places import services as places
from dsr.places.models import Membership, Place
from dsr.register.services import add_to_register

SYSTEM = audit.Context(actor=None, place_id=None, actor_label="test setup")
PASSWORD = "correct-horse-battery-staple"

_stems = itertools.count(100_000)


def next_nhs_number() -> str:
    """A fresh valid number from the 999 range (belongs to no real person)."""
    while True:
        stem = f"999{next(_stems):06d}"
        digit = nhs_number.check_digit(stem)
        if digit is not None:
            return stem + str(digit)


def make_place(name: str = "Testplace", **settings: Any) -> Place:
    place = places.create_place(name=name, by=SYSTEM)
    if settings:
        for key, value in settings.items():
            setattr(place.settings, key, value)
        place.settings.save()
    return place


def in_network(person: Person, user: User) -> None:
    """Put a partner in the person's care network: the partner then sees them."""
    people.add_network_member(
        person=person, name=user.full_name, user=user, started_on=dates.today(), by=SYSTEM
    )


_emails = itertools.count(1)


def make_user(*, place: Place | None = None, role: Role | None = None, **extra: Any) -> User:
    email = extra.pop("email", None) or f"user{next(_emails)}@example.org"
    extra.setdefault("full_name", email.split("@")[0].title())
    user = User.objects.create_user(email, PASSWORD, **extra)
    if place is not None and role is not None:
        places.grant_membership(user=user, place=place, role=role, by=SYSTEM)
    return user


def person_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "given_name": "Robin",
        "family_name": "Testperson",
        "preferred_name": "",
        "date_of_birth": dates.add_years(dates.today(), -12),
        "nhs_number": next_nhs_number(),
        "ethnicity": "Z",
        "address": "",
        "postcode": "",
        "local_authority": "",
        "gp_practice": "",
        "accommodation": "family_home",
        "learning_disability": "yes",
        "autism": "diagnosed",
        "diagnosis_notes": "",
        "education_setting": "",
        "education_attendance": "",
        "ehc_plan": "no",
        "looked_after": False,
        "child_protection_plan": False,
        "child_in_need": False,
        "communication_needs": "",
        "key_safety_information": "",
    }
    data.update(overrides)
    return data


def make_person(place: Place, rating: str = "G", **overrides: Any) -> Person:
    """A person on the register, with their initial rating (every person has one)."""
    return add_to_register(
        place=place,
        data=person_data(**overrides),
        rating=rating,
        rationale="Initial rating for the test",
        by=SYSTEM,
    )


def born_years_ago(years: int, days: int = 10) -> date:
    from datetime import timedelta

    return dates.add_years(dates.today(), -years) - timedelta(days=days)


def membership(user: User, place: Place) -> Membership:
    return Membership.objects.get(user=user, place=place)


def referral_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "referrer_name": "Dana Doctor",
        "referrer_role": "GP",
        "referrer_organisation": "Elm Tree Surgery",
        "referrer_phone": "01632 960 001",
        "referrer_email": "dana@example.org",
        "given_name": "Robin",
        "family_name": "Referred",
        "date_of_birth": dates.add_years(dates.today(), -11),
        "nhs_number": "",
        "postcode": "",
        "reason": "Escalating distress at home and school",
        "current_risks": "Placement at risk",
        "consent_obtained": "yes",
        "consent_from": "Mother",
    }
    data.update(overrides)
    return data


def make_referral(place: Place, **overrides: Any) -> Any:
    """A professional's referral, recorded through the service."""
    from dsr.referrals import services as referrals

    return referrals.record_referral(place=place, data=referral_data(**overrides), by=SYSTEM)
