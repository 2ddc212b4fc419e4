"""Step 6's demo data: consent, family and carers, circumstances, keyworkers and their
contacts, referrals in every state, a transfer from the other place, and one person whose
consent has been withdrawn. All fictional, all through the services."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import transaction

from dsr.consent import services as consent
from dsr.core import audit, dates
from dsr.core.access import Role
from dsr.keywork import services as keywork
from dsr.people import services as people
from dsr.people.choices import CircumstanceArea, Standing
from dsr.people.models import Person
from dsr.places.models import Place
from dsr.referrals import services as referrals
from dsr.referrals import transfers
from dsr.risk import rules

PARENTS = ["Sam", "Alex", "Jo", "Chris", "Nadia", "Tariq", "Grace", "Marek", "Leah", "Femi"]
NOTES = {
    CircumstanceArea.HEALTH: {
        Standing.MANAGING_WELL: "Sleeping better since the medication review.",
        Standing.SOME_CONCERNS: "Weight loss; GP asked to review.",
        Standing.SIGNIFICANT_CONCERNS: "Not eating; CAMHS appointment brought forward.",
    },
    CircumstanceArea.EDUCATION: {
        Standing.MANAGING_WELL: "Full timetable, settled in class.",
        Standing.SOME_CONCERNS: "Reduced timetable, mornings only.",
        Standing.SIGNIFICANT_CONCERNS: "Excluded twice this term; no school place agreed.",
    },
    CircumstanceArea.SOCIAL: {
        Standing.MANAGING_WELL: "Family coping with short breaks in place.",
        Standing.SOME_CONCERNS: "Parent carer exhausted; respite requested.",
        Standing.SIGNIFICANT_CONCERNS: "Placement at risk of breakdown.",
    },
}


def _as(user: Any, place: Place, role: Role) -> audit.Context:
    return audit.Context(actor=user, place_id=place.pk, actor_label=user.email, role=role)


def add_record_details(
    rng: random.Random, person: Person, *, loader: audit.Context, organisations: list[Any]
) -> None:
    """Consent, family, circumstances: what most records hold."""
    today = dates.today()
    first = max(person.date_of_birth, person.rated_on or today)
    parent = rng.choice(PARENTS)
    people.add_network_member(
        person=person,
        kind="family",
        name=f"{parent} {person.family_name}",
        relationship="parent",
        parental_responsibility=person.age < 18,
        phone=f"07700 900 {rng.randrange(100, 999)}",
        started_on=first,
        by=loader,
    )
    if rng.random() < 0.85:
        age = person.age
        given_by, basis, consenter = (
            ("young_person", "gillick", "Themselves")
            if 13 <= age < 16 and rng.random() < 0.5
            else ("young_person", "capacity", "Themselves")
            if age >= 16 and rng.random() < 0.6
            else ("best_interests", "best_interests", "DSR coordinator with the family")
            if age >= 16
            else ("parental", "parental", f"{parent} {person.family_name} (parent)")
        )
        consent.record_consent(
            person=person,
            given_by=given_by,
            basis=basis,
            consenter=consenter,
            given_on=max(first, today - timedelta(days=rng.randrange(0, 340))),
            evidence="bi_record" if basis == "best_interests" else "signed_form",
            evidence_note="Best-interests meeting with parents and the CAMHS team"
            if basis == "best_interests"
            else "",
            share_with=rng.sample(organisations, k=rng.randint(1, len(organisations)))
            if organisations
            else [],
            by=loader,
        )
    for area in CircumstanceArea:
        if rng.random() < 0.7:
            standing = rng.choice(list(Standing))
            people.record_circumstance(
                person=person,
                area=area,
                standing=standing,
                note=NOTES[area][standing],
                recorded_on=max(first, today - timedelta(days=rng.randrange(0, 60))),
                by=loader,
            )


def add_keywork(
    rng: random.Random, person: Person, *, keyworker: Any, coordinator: Any, place: Place
) -> None:
    """An eligible person with a professional in their network gets the keyworker, with
    a few contacts, the last one agreeing a follow-up."""
    if not rules.keyworker_eligible(place.settings, person.current_rating, person.age):
        return
    if not people.current_professionals(person).exists() or rng.random() < 0.25:
        return  # some eligible people wait for a keyworker (the caseloads page shows them)
    today = dates.today()
    started = max(person.date_of_birth, today - timedelta(days=rng.randrange(20, 120)))
    keywork.allocate_keyworker(
        person=person,
        keyworker=keyworker,
        started_on=started,
        by=_as(coordinator, place, Role.COORDINATOR),
    )
    as_keyworker = _as(keyworker, place, Role.KEYWORKER)
    # Contact every week or two, from a few days after allocation (the last may be a while
    # ago for some: the caseload shows who is overdue).
    contacts: list[int] = []
    day = rng.randrange(2, 6)
    while day <= (today - started).days and len(contacts) < 8:
        contacts.append(day)
        day += rng.randrange(6, 17)
    if rng.random() < 0.2:
        contacts = contacts[: max(0, len(contacts) - 2)]
    for days in contacts:
        keywork.log_contact(
            person=person,
            contacted_on=started + timedelta(days=days),
            kind=rng.choice(["visit", "phone", "video", "meeting"]),
            with_whom=rng.choice(["Mum", "Dad", "Mum and the young person", "Foster carer"]),
            summary=rng.choice(
                [
                    "Talked through the week; mornings are the hardest. Agreed a visual timetable.",
                    "School meeting went well; reduced timetable to continue for two weeks.",
                    "Family exhausted; asked social care about short breaks.",
                ]
            ),
            follow_ups=[
                keywork.FollowUp(
                    "Chase the short-breaks assessment",
                    today + timedelta(days=rng.randrange(2, 15)),
                    owner_user=keyworker,
                )
            ]
            if days == contacts[-1]
            else [],
            by=as_keyworker,
        )


def add_referrals(
    rng: random.Random, place: Place, other: Place, *, coordinator: Any, others: list[Person]
) -> None:
    """The referral queue: new (one overdue for first contact), contacted, waiting for more
    information, accepted, declined, a parent's self-referral, and a transfer in."""
    today = dates.today()
    team = _as(coordinator, place, Role.COORDINATOR)

    def refer(days_ago: int, given: str, family: str, **extra: Any) -> Any:
        return referrals.record_referral(
            place=place,
            data={
                "received_on": dates.add_working_days(today, 0) - timedelta(days=days_ago),
                "referrer_name": extra.pop("referrer", "Dr Dana Kaur"),
                "referrer_role": extra.pop("role", "Community paediatrician"),
                "referrer_organisation": extra.pop("organisation", "Elm Tree Surgery (fictional)"),
                "referrer_phone": "01632 960 010",
                "referrer_email": "referrals@elmtree.example",
                "given_name": given,
                "family_name": family,
                "date_of_birth": dates.add_years(today, -rng.randrange(6, 17))
                - timedelta(days=rng.randrange(1, 300)),
                "nhs_number": "",
                "postcode": "",
                "reason": extra.pop(
                    "reason",
                    "Escalating self-injury at home; parents struggling to keep him safe.",
                ),
                "current_risks": "Placement at risk of breakdown",
                "consent_obtained": "yes",
                "consent_from": "Parent",
            },
            by=team,
        )

    refer(1, "Ellis", "Brennan")
    refer(10, "Mira", "Szabo", reason="Not attending school for six weeks; very distressed.")
    contacted = refer(4, "Owen", "Adeyemi")
    referrals.record_first_contact(
        referral=contacted,
        contacted_on=today,
        how="phone",
        note="Spoke to mum",
        expected_version=contacted.version,
        by=team,
    )
    asked = refer(
        8,
        "Lila",
        "Moreau",
        referrer="Kerry Shaw",
        role="SENCO",
        organisation="Riverside Special School (fictional)",
    )
    referrals.request_information(
        referral=asked,
        what="Ask the school for the last two reviews and the EHC plan",
        how="email",
        expected_version=asked.version,
        by=team,
    )
    declined = refer(20, "Ben", "Carter")
    referrals.decline_referral(
        referral=declined,
        reason="No learning disability or autism diagnosis or assessment: referred to the "
        "early help team instead.",
        how="letter",
        expected_version=declined.version,
        by=team,
    )
    accepted = refer(30, "Priya", "Nair")
    referrals.accept_as_new_person(
        referral=accepted,
        person_data={
            "given_name": "Priya",
            "family_name": "Nair",
            "preferred_name": "",
            "date_of_birth": accepted.date_of_birth,
            "nhs_number": "",
            "ethnicity": "H",
            "address": "12 Canal Road, Northbridge",
            "postcode": "ZZ99 4AB",
            "local_authority": "Northbridge Council (fictional)",
            "gp_practice": "Elm Tree Surgery (fictional)",
            "accommodation": "family_home",
            "learning_disability": "yes",
            "autism": "diagnosed",
            "diagnosis_notes": "",
            "education_setting": "Riverside Special School (fictional)",
            "education_attendance": "partial",
            "ehc_plan": "yes",
            "looked_after": False,
            "child_protection_plan": False,
            "child_in_need": True,
            "communication_needs": "Uses a communication app",
            "key_safety_information": "Runs towards roads when distressed.",
        },
        rating="A",
        rationale="Escalating behaviour at home; school placement at risk.",
        expected_version=accepted.version,
        by=team,
    )
    if place.settings.parent_self_referral:
        referrals.submit_self_referral(
            place=place,
            data={
                "referrer_name": "Jo Whitfield",
                "referrer_role": "Parent",
                "referrer_phone": "07700 900 456",
                "referrer_email": "",
                "given_name": "Casey",
                "family_name": "Whitfield",
                "date_of_birth": dates.add_years(today, -12) - timedelta(days=40),
                "nhs_number": "",
                "postcode": "",
                "reason": "Casey is autistic and has stopped leaving his room. He hits out when "
                "we try to help. We don't know what to do.",
                "current_risks": "I am scared he will hurt himself.",
                "consent_obtained": "yes",
                "consent_from": "Jo Whitfield",
            },
            client="demo",
        )
    # A transfer in: someone moved here from the other place, with their history.
    moving = _first_open_with_consent(others)
    if moving is not None:
        other_coordinator = audit.Context(
            actor=None, place_id=other.pk, actor_label="Southvale DSR coordinator (fictional)"
        )
        transfers.transfer_person(
            person=moving,
            to_place=place,
            note="The family have moved to Northbridge to be near grandparents.",
            expected_version=moving.version,
            by=other_coordinator,
        )


def _first_open_with_consent(candidates: list[Person]) -> Person | None:
    for candidate in candidates:
        with transaction.atomic():
            fresh = people.lock(candidate)  # as the record stands now
        if fresh.is_open and fresh.consent_state == "given":
            return fresh
    return None


def withdraw_one(place: Place, *, coordinator: Any, here: list[Person]) -> None:
    """One person whose family has withdrawn consent: restricted, flagged for closure."""
    person = next((p for p in reversed(here) if p.is_open and p.consent_state == "given"), None)
    if person is not None:
        consent.withdraw_consent(
            person=person,
            withdrawn_on=dates.today(),
            withdrawn_by="Their parent, by phone",
            note="The family no longer want the team involved.",
            by=_as(coordinator, place, Role.COORDINATOR),
        )
