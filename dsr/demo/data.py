"""A fictional place, built through the services exactly as real data would be."""

from __future__ import annotations

import random
from datetime import date, timedelta

from dsr.accounts.models import User
from dsr.actions import services as actions
from dsr.core import audit, dates, nhs_number
from dsr.core.access import Role
from dsr.demo import keywork_and_referrals as extras
from dsr.demo.hospital import load_hospital
from dsr.demo.meetings import load_meetings
from dsr.people import services as people
from dsr.people.choices import (
    Accommodation,
    Attendance,
    Autism,
    ClosureReason,
    EHCPlan,
    Ethnicity,
    LearningDisability,
)
from dsr.places import services as places
from dsr.places.models import OrganisationKind, Place
from dsr.register.services import add_to_register
from dsr.risk import services as risk

DEMO_PASSWORD = "fictional-demo-2026"
DEMO_PLACE = "Northbridge (fictional)"
OTHER_PLACE = "Southvale (fictional)"
LOADER = audit.Context(actor=None, place_id=None, actor_label="demo data loader")

GIVEN = [
    "Amelia",
    "Noah",
    "Isla",
    "Leo",
    "Ava",
    "Oscar",
    "Freya",
    "Arlo",
    "Maya",
    "Theo",
    "Zara",
    "Finley",
    "Ruby",
    "Kai",
    "Esme",
    "Rohan",
    "Aisha",
    "Jude",
    "Nia",
    "Callum",
    "Priya",
    "Ezra",
    "Lily",
    "Idris",
    "Sofia",
    "Tomasz",
    "Hana",
    "Reuben",
    "Orla",
    "Yusuf",
    "Siân",
    "Zoë",
    "Chloé",
]
FAMILY = [
    "Ashdown",
    "Brackley",
    "Corran",
    "Dunmore",
    "Elstow",
    "Fairholme",
    "Garside",
    "Hollins",
    "Ingleby",
    "Jessop",
    "Kenward",
    "Lowther",
    "Marden",
    "Netherby",
    "Oakridge",
    "Pell",
    "Quarmby",
    "Redfern",
    "Sowerby",
    "Thwaite",
    "Ullock",
    "Varley",
    "Winstanley",
    "Yeadon",
    "Núñez",
    "O’Brien",
    "Kowalczyk-Hart",
]
SCHOOLS = [
    "Northbridge Primary (fictional)",
    "Riverside Special School (fictional)",
    "Northbridge Academy (fictional)",
    "Hillcrest College (fictional)",
    "",
]
SAFETY = [
    "Becomes distressed by loud noise; use a quiet room. Do not restrain.",
    "Absconds when anxious: stay with her, call mum on the number in the care plan.",
    "Self-injures (head banging) when plans change; give warning of changes with pictures.",
    "Allergic to penicillin. Epilepsy: rescue medication in bag.",
    "",
]
STREETS = ["Mill", "Station", "Church", "Park"]
USERS = [
    ("coordinator@northbridge.example", "Chris Coordinator", Role.COORDINATOR, "DSR lead"),
    ("keyworker@northbridge.example", "Kim Keyworker", Role.KEYWORKER, "Dynamic support keyworker"),
    ("partner@northbridge.example", "Pat Partner", Role.PARTNER, "CAMHS practitioner"),
    ("viewer@northbridge.example", "Vic Viewer", Role.VIEWER, "Commissioner"),
    ("auditor@northbridge.example", "Ade Auditor", Role.AUDITOR, "Caldicott guardian"),
    ("admin@northbridge.example", "Alex Admin", Role.PLACE_ADMIN, "System owner"),
]


def demo_nhs_numbers(rng: random.Random) -> list[str]:
    """Valid by check digit, from the 999 range that belongs to no real person."""
    numbers: set[str] = set()
    while len(numbers) < 200:
        stem = "999" + f"{rng.randrange(10**6):06d}"
        digit = nhs_number.check_digit(stem)
        if digit is not None:
            numbers.add(stem + str(digit))
    return sorted(numbers)


def _birth_date(rng: random.Random, age: int) -> date:
    today = dates.today()
    # Babies on a register are months old, not days.
    days = rng.randrange(180, 360) if age == 0 else rng.randrange(1, 360)
    return dates.add_years(today, -age) - timedelta(days=days)


# Where someone of an age might plausibly live, and how their education stands.
ADULT_ONLY = {Accommodation.SUPPORTED_LIVING}
SCHOOL_AGE_ONLY = {
    Accommodation.RESIDENTIAL_SCHOOL_38,
    Accommodation.RESIDENTIAL_SCHOOL_52,
    Accommodation.CHILDRENS_HOME,
    Accommodation.SECURE_CHILDRENS_HOME,
}


def _accommodation(index: int, age: int) -> str:
    fits = [
        a
        for a in Accommodation
        if not (a in ADULT_ONLY and age < 16) and not (a in SCHOOL_AGE_ONLY and not 5 <= age <= 18)
    ]
    return fits[index % len(fits)].value


def _attendance(rng: random.Random, age: int) -> str:
    if age < 4:
        return Attendance.NOT_APPLICABLE
    if age <= 18:
        return rng.choice(
            [Attendance.FULL, Attendance.PARTIAL, Attendance.NOT_ATTENDING, Attendance.EXCLUDED]
        )
    return rng.choice([Attendance.FULL, Attendance.PARTIAL, Attendance.NOT_IN_EDUCATION])


RATIONALES = {
    "R": "Family in crisis after placement breakdown; community support not holding.",
    "A": "Escalating behaviour at home and reduced school timetable; risk of breakdown.",
    "G": "Settled at home and school; plan in place and working.",
    "B": "Admitted to a mental-health hospital; inpatient C(E)TR and visits to follow.",
}
# Roughly how ratings are spread on a place's register. Blue comes only from an admission
# (dsr/demo/hospital.py), never from a rating on its own.
RATING_WEIGHTS = {"R": 1, "A": 3, "G": 5, "B": 0}


def _rating_history(rng: random.Random, born: date) -> list[tuple[date, str]]:
    """One to four dated ratings, oldest first, none before birth."""
    today = dates.today()
    count = rng.randint(1, 4)
    days_ago = sorted((rng.randrange(0, 400) for _ in range(count)), reverse=True)
    ratings = rng.choices(list(RATING_WEIGHTS), weights=list(RATING_WEIGHTS.values()), k=count)
    return [
        (max(born, today - timedelta(days=d)), r) for d, r in zip(days_ago, ratings, strict=True)
    ]


def _add_history(rng: random.Random, person: object, history: list[tuple[date, str]]) -> None:
    for day, rating in history:
        if rng.random() < 0.5:
            risk.record_review(
                person=person,  # type: ignore[arg-type]
                held_on=day,
                participants="Parent, school SENCO, CAMHS practitioner, DSR coordinator",
                summary="Reviewed the plan with the family and partners.",
                rating=rating,
                rationale=RATIONALES[rating],
                by=LOADER,
            )
        else:
            risk.rate(
                person=person,  # type: ignore[arg-type]
                rating=rating,
                rationale=RATIONALES[rating],
                decided_on=day,
                context="tracker_meeting",
                by=LOADER,
            )
    # Recent significant events: some people trip the early-warning rules.
    for _ in range(rng.choice([0, 0, 0, 1, 2, 3])):
        risk.log_event(
            person=person,  # type: ignore[arg-type]
            kind=rng.choice(EVENT_KINDS),
            occurred_on=max(
                person.date_of_birth, dates.today() - timedelta(days=rng.randrange(0, 45))
            ),  # type: ignore[attr-defined]
            description="Reported by the family at the weekly call.",
            by=LOADER,
        )


PROFESSIONALS = [
    ("School SENCO", "Riverside Special School (fictional)"),
    ("Social worker", "Northbridge Council Children's Services (fictional)"),
    ("Support worker", "Oakwood Care Ltd (fictional)"),
]


def _add_network(
    rng: random.Random,
    person: object,
    *,
    partner: object,
    camhs: object,
    organisations: dict[str, object],
    first_day: date,
) -> None:
    """Who is around the person: a professional or two, and for some the CAMHS partner
    (Pat Partner), who then sees them and owns an action about them."""
    for job_title, organisation in rng.sample(PROFESSIONALS, rng.randint(1, 2)):
        people.add_network_member(
            person=person,  # type: ignore[arg-type]
            name=f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
            job_title=job_title,
            organisation=organisations[organisation],  # type: ignore[arg-type]
            started_on=first_day,
            by=LOADER,
        )
    if rng.random() < 0.3:
        people.add_network_member(
            person=person,  # type: ignore[arg-type]
            name="Pat Partner",
            job_title="CAMHS practitioner",
            organisation=camhs,  # type: ignore[arg-type]
            user=partner,
            is_lead=True,
            started_on=first_day,
            by=LOADER,
        )
        actions.open_action(
            person=person,  # type: ignore[arg-type]
            description="Share the updated CAMHS care plan with the family",
            due_on=dates.today() + timedelta(days=rng.randrange(-5, 20)),
            source="other",
            owner_user=partner,
            by=LOADER,
        )


EVENT_KINDS = [
    "ae",
    "police",
    "placement_at_risk",
    "exclusion",
    "crisis_team",
    "medication",
    "other",
]


def load(people_count: int = 60, seed: int = 2026) -> Place | None:
    if Place.objects.filter(name=DEMO_PLACE).exists():
        return None
    rng = random.Random(seed)  # noqa: S311 - fictional data, not security
    place = places.create_place(name=DEMO_PLACE, icb_name="Fictional ICB", by=LOADER)
    other = places.create_place(name=OTHER_PLACE, icb_name="Fictional ICB", by=LOADER)
    # Northbridge takes self-referrals from parents (as Knowsley does); Southvale does not.
    place.settings.parent_self_referral = True
    place.settings.save()
    camhs = places.add_organisation(
        place=place,
        name="Northbridge CAMHS (fictional)",
        kind=OrganisationKind.NHS_TRUST,
        by=LOADER,
    )
    organisations: dict[str, object] = {}
    for name, kind in [
        (
            "Northbridge Council Children's Services (fictional)",
            OrganisationKind.LA_CHILDRENS_SOCIAL_CARE,
        ),
        ("Riverside Special School (fictional)", OrganisationKind.EDUCATION),
        ("Northbridge Police (fictional)", OrganisationKind.POLICE),
        ("Family Voices Northbridge (fictional)", OrganisationKind.VOLUNTARY),
        ("Oakwood Care Ltd (fictional)", OrganisationKind.INDEPENDENT_PROVIDER),
    ]:
        organisations[name] = places.add_organisation(place=place, name=name, kind=kind, by=LOADER)
    partner = keyworker = None
    team: dict[Role, User] = {}
    for email, full_name, role, title in USERS:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name, job_title=title)
        team[role] = user
        if role == Role.PARTNER:
            partner = user
        if role == Role.KEYWORKER:
            keyworker = user
        places.grant_membership(
            user=user,
            place=place,
            role=role,
            organisation=camhs if role == Role.PARTNER else None,
            by=LOADER,
        )
        if role == Role.COORDINATOR:
            places.grant_membership(user=user, place=other, role=Role.VIEWER, by=LOADER)

    numbers = demo_nhs_numbers(rng)
    added: dict[int, list[object]] = {place.pk: [], other.pk: []}
    open_here = []
    for index in range(people_count + 10):  # and a few in the other place
        target = place if index < people_count else other
        age = index % 25  # every age 0-24
        born = _birth_date(rng, age)
        data = {
            "given_name": rng.choice(GIVEN),
            "family_name": rng.choice(FAMILY),
            "preferred_name": "",
            "date_of_birth": born,
            "nhs_number": numbers[index] if index % 11 else "",
            "ethnicity": rng.choice(Ethnicity.values),
            "address": f"{rng.randrange(1, 200)} {rng.choice(STREETS)} Road, Northbridge",
            # ZZ99 is the postcode area used for "no fixed abode": no real address.
            "postcode": f"ZZ99 {rng.randrange(1, 9)}{rng.choice('ABDEFG')}{rng.choice('HJLNPQ')}",
            "local_authority": "Northbridge Council (fictional)",
            "gp_practice": rng.choice(
                ["Elm Tree Surgery (fictional)", "Canal Side Practice (fictional)"]
            ),
            "accommodation": _accommodation(index, age),
            "learning_disability": rng.choice(LearningDisability.values),
            "autism": rng.choice(Autism.values),
            "diagnosis_notes": "",
            "education_setting": rng.choice(SCHOOLS) if 4 <= age <= 21 else "",
            "education_attendance": _attendance(rng, age),
            "ehc_plan": rng.choice(EHCPlan.values),
            "looked_after": rng.random() < 0.2,
            "child_protection_plan": age < 18 and rng.random() < 0.1,
            "child_in_need": age < 18 and rng.random() < 0.2,
            "communication_needs": rng.choice(
                ["Uses Makaton and a picture board", "Verbal; needs extra processing time", ""]
            ),
            "key_safety_information": rng.choice(SAFETY),
        }
        history = _rating_history(rng, born)
        first_day, first_rating = history[0]
        person = add_to_register(
            place=target,
            data=data,
            rating=first_rating,
            rationale=RATIONALES[first_rating],
            rated_on=first_day,
            by=LOADER,
        )
        added[target.pk].append(person)
        _add_history(rng, person, history[1:])
        extras.add_record_details(
            rng,
            person,
            loader=LOADER,
            organisations=[camhs, *organisations.values()] if target == place else [],
        )
        if target == place:
            _add_network(
                rng,
                person,
                partner=partner,
                camhs=camhs,
                organisations=organisations,
                first_day=first_day,
            )
            extras.add_keywork(
                rng,
                person,
                keyworker=team[Role.KEYWORKER],
                coordinator=team[Role.COORDINATOR],
                place=place,
            )
        if index % 13 == 5:
            people.close_record(
                person=person,
                reason=ClosureReason.RISK_REDUCED,
                closed_on=max(born, dates.today() - timedelta(days=rng.randrange(1, 90))),
                note="Stable for six months; agreed at the tracker meeting.",
                expected_version=person.version,
                by=LOADER,
            )
        elif target == place:
            open_here.append(person)
    load_hospital(open_here, by=LOADER, owner=keyworker)
    extras.add_referrals(
        rng,
        place,
        other,
        coordinator=team[Role.COORDINATOR],
        others=added[other.pk],  # type: ignore[arg-type]
    )
    extras.withdraw_one(place, coordinator=team[Role.COORDINATOR], here=added[place.pk])  # type: ignore[arg-type]
    load_meetings(
        rng,
        place,
        coordinator=team[Role.COORDINATOR],
        keyworker=team[Role.KEYWORKER],
        partner=team[Role.PARTNER],
        organisations=[camhs, *organisations.values()],  # type: ignore[list-item]
    )
    return place
