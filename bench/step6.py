"""Step 6's rows for the bench register (imported after django.setup(), by history.build()).

Consent is planned before the person rows are written (the register keeps where consent
stands on the person, ADR 0019); then care networks, circumstances, consents, keyworker
allocations with their contacts, and each place's referrals with their decisions, all by
COPY, each with its audit event in the place's chain, as the services would have written.

Keyworker caseloads are kept to what a keyworker holds (up to CASELOAD each): most eligible
people at national scale are waiting for one, as the caseloads page then shows.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bench.bulk import copy_models
from dsr.consent.models import Consent
from dsr.core import dates, text
from dsr.core.models import AuditAction
from dsr.keywork.models import Allocation, Contact
from dsr.people.choices import CircumstanceArea, ConsentState, Standing, Status
from dsr.people.models import Circumstance, NetworkMember
from dsr.referrals.models import Referral, ReferralDecision
from dsr.referrals.services import new_reference
from dsr.risk import rules

CASELOAD = 25
WAITING_REFERRALS = 15  # per place: about a month's worth
DECIDED_REFERRALS = 150  # per place: the history of the queue
PROFESSIONS = [
    ("SENCO", "School SENCO"),
    ("Social worker", "Children's social care"),
    ("CAMHS practitioner", "CAMHS"),
    ("Learning disability nurse", "Community LD team"),
]


def plan_consent(world: Any, plan: Any, consents: dict[int, date]) -> None:
    """Most people's consent is recorded within the last year; some not yet."""
    person = plan.person
    if world.rng.random() < 0.85:
        given = world.day_between(max(plan.added_on, world.today - timedelta(days=330)), plan.until)
        months = world.policy[person.place_id].consent_reconfirm_months
        person.consent_state = ConsentState.GIVEN
        person.consent_reconfirm_by = dates.add_months(given, months)
        consents[id(plan)] = given


def write(world: Any, plans: list[Any], consents: dict[int, date]) -> None:
    members = _networks(world, plans)
    _circumstances(world, plans)
    _consents(world, plans, consents)
    _keywork(world, plans, members)
    _referrals(world, plans)


def _networks(world: Any, plans: list[Any]) -> dict[int, int]:
    """One or two professionals and a parent for each person; returns how many
    professionals each person (by id) has now."""
    rng = world.rng
    rows: list[NetworkMember] = []
    professionals: dict[int, int] = {}
    for plan in plans:
        person = plan.person
        for job, team in rng.sample(PROFESSIONS, rng.randint(1, 2)):
            rows.append(
                NetworkMember(
                    person=person,
                    place_id=person.place_id,
                    kind="professional",
                    name=f"{rng.choice(('Sam', 'Ola', 'Kit', 'Ade', 'Jo'))} {team.split()[0]}",
                    job_title=job,
                    started_on=plan.added_on,
                    created_at=world.when(plan.added_on),
                    updated_at=world.when(plan.added_on),
                )
            )
            professionals[person.pk] = professionals.get(person.pk, 0) + 1
        rows.append(
            NetworkMember(
                person=person,
                place_id=person.place_id,
                kind="family",
                name=f"Parent {person.family_name}",
                relationship="parent",
                parental_responsibility=person.age < 18,
                phone="07700 900 123",
                started_on=plan.added_on,
                created_at=world.when(plan.added_on),
                updated_at=world.when(plan.added_on),
            )
        )
    copy_models(rows)
    for member in rows:
        world.record(
            member.started_on,
            world.someone(member.place_id, "coordinator", "keyworker"),
            member.place_id,
            AuditAction.CREATED,
            "NetworkMember",
            member.pk,
            member.person_id,
            {"name": [None, member.name], "kind": [None, member.kind]},
        )
    return professionals


def _circumstances(world: Any, plans: list[Any]) -> None:
    rng = world.rng
    rows: list[Circumstance] = []
    areas, standings = list(CircumstanceArea), list(Standing)
    for plan in plans:
        if rng.random() > 0.6:
            continue
        person = plan.person
        for area in rng.sample(areas, rng.randint(1, 3)):
            day = world.day_between(plan.added_on, plan.until)
            who = world.someone(person.place_id, "coordinator", "keyworker")
            rows.append(
                Circumstance(
                    person=person,
                    place_id=person.place_id,
                    area=area,
                    standing=rng.choice(standings),
                    note="Reviewed with the family.",
                    recorded_on=day,
                    recorded_by=who,
                    recorded_by_label=who.email,
                    created_at=world.when(day),
                )
            )
    copy_models(rows)
    for row in rows:
        world.record(
            row.recorded_on,
            row.recorded_by,
            row.place_id,
            AuditAction.CREATED,
            "Circumstance",
            row.pk,
            row.person_id,
            {"area": [None, row.area], "standing": [None, row.standing]},
        )


def _consents(world: Any, plans: list[Any], consents: dict[int, date]) -> None:
    rows: list[Consent] = []
    for plan in plans:
        given = consents.get(id(plan))
        if given is None:
            continue
        person = plan.person
        who = world.someone(person.place_id, "coordinator", "keyworker")
        rows.append(
            Consent(
                person=person,
                place_id=person.place_id,
                given_by="parental" if person.age < 16 else "young_person",
                basis="parental" if person.age < 16 else "capacity",
                consenter="Parent" if person.age < 16 else "Themselves",
                given_on=given,
                evidence="signed_form",
                reconfirm_by=person.consent_reconfirm_by,
                recorded_by=who,
                recorded_by_label=who.email,
                created_at=world.when(given),
            )
        )
    copy_models(rows)
    for row in rows:
        world.record(
            row.given_on,
            row.recorded_by,
            row.place_id,
            AuditAction.CREATED,
            "Consent",
            row.pk,
            row.person_id,
            {"consent_state": [None, "given"], "reconfirm_by": [None, str(row.reconfirm_by)]},
        )


def _keywork(world: Any, plans: list[Any], professionals: dict[int, int]) -> None:
    """Eligible open people get a keyworker until each keyworker holds CASELOAD; each
    allocation has fortnightly-ish contacts (some fall behind)."""
    rng = world.rng
    allocations: list[Allocation] = []
    held: dict[int, int] = {}
    for plan in plans:
        person = plan.person
        policy = world.policy[person.place_id]
        if person.status != Status.OPEN or not professionals.get(person.pk):
            continue
        if not rules.keyworker_eligible(policy, person.current_rating, person.age):
            continue
        keyworkers = [
            k for k in world.pool(person.place_id, "keyworker") if held.get(k.pk, 0) < CASELOAD
        ]
        if not keyworkers:
            continue
        keyworker = rng.choice(keyworkers)
        held[keyworker.pk] = held.get(keyworker.pk, 0) + 1
        started = max(plan.added_on, world.today - timedelta(days=rng.randint(10, 300)))
        allocations.append(
            Allocation(
                person=person,
                place_id=person.place_id,
                keyworker=keyworker,
                started_on=started,
                allocated_by=world.someone(person.place_id, "coordinator"),
                created_at=world.when(started),
                updated_at=world.when(started),
            )
        )
    copy_models(allocations)
    contacts: list[Contact] = []
    for allocation in allocations:
        world.record(
            allocation.started_on,
            allocation.allocated_by,
            allocation.place_id,
            AuditAction.CREATED,
            "Allocation",
            allocation.pk,
            allocation.person_id,
            {"keyworker": [None, allocation.keyworker.email]},
        )
        day = allocation.started_on + timedelta(days=rng.randint(1, 5))
        behind = rng.random() < 0.2
        while day <= world.today - (timedelta(days=30) if behind else timedelta()):
            contacts.append(
                Contact(
                    person_id=allocation.person_id,
                    place_id=allocation.place_id,
                    contacted_on=day,
                    kind=rng.choice(("visit", "phone", "video")),
                    with_whom="Parent",
                    summary="Talked through the week and the plan.",
                    recorded_by=allocation.keyworker,
                    recorded_by_label=allocation.keyworker.email,
                    created_at=world.when(day),
                )
            )
            day += timedelta(days=rng.randint(6, 18))
    copy_models(contacts)
    for contact in contacts:
        world.record(
            contact.contacted_on,
            contact.recorded_by,
            contact.place_id,
            AuditAction.CREATED,
            "Contact",
            contact.pk,
            contact.person_id,
            {"kind": [None, contact.kind]},
        )


def _referrals(world: Any, plans: list[Any]) -> None:
    """Each place's queue: some waiting (new, contacted, more information asked for), and
    a history of accepted (linked to the person they brought) and declined ones."""
    rng = world.rng
    referrals: list[Referral] = []
    by_place: dict[int, list[Any]] = {}
    for plan in plans:
        by_place.setdefault(plan.person.place_id, []).append(plan)
    for place in world.places:
        accepted = rng.sample(
            by_place.get(place.pk, []), min(DECIDED_REFERRALS // 2, len(by_place.get(place.pk, [])))
        )
        for index in range(WAITING_REFERRALS + DECIDED_REFERRALS):
            waiting = index < WAITING_REFERRALS
            plan = (
                accepted[index - WAITING_REFERRALS]
                if not waiting and index - WAITING_REFERRALS < len(accepted)
                else None
            )
            received = (
                world.today - timedelta(days=rng.randint(0, 20))
                if waiting
                else (plan.added_on if plan else world.day_between(world.start, world.today))
            )
            given = plan.person.given_name if plan else rng.choice(("Robin", "Alex", "Sam", "Jo"))
            family = (
                plan.person.family_name if plan else rng.choice(("Shaw", "Khan", "Price", "Okafor"))
            )
            status = "new" if waiting else ("accepted" if plan else "declined")
            if waiting and rng.random() < 0.3:
                status = "more_info"
            referrals.append(
                Referral(
                    place=place,
                    reference=new_reference(),
                    source=rng.choice(("professional", "professional", "self")),
                    received_on=received,
                    referrer_name="Dr Dana Kaur",
                    referrer_role="GP",
                    referrer_organisation="Bench Surgery",
                    given_name=given,
                    family_name=family,
                    date_of_birth=plan.person.date_of_birth
                    if plan
                    else world.today - timedelta(days=rng.randint(2000, 6000)),
                    search_name=text.search_key(given, family),
                    reason="Escalating distress at home and school.",
                    current_risks="Placement at risk",
                    consent_obtained="yes",
                    consent_from="Parent",
                    status=status,
                    first_contact_on=None
                    if waiting and rng.random() < 0.5
                    else received + timedelta(days=2),
                    person=plan.person if plan else None,
                    created_by=world.someone(place.pk, "coordinator", "keyworker"),
                    created_at=world.when(received),
                    updated_at=world.when(received),
                )
            )
    copy_models(referrals)
    decisions: list[ReferralDecision] = []
    for referral in referrals:
        world.record(
            referral.received_on,
            referral.created_by,
            referral.place_id,
            AuditAction.CREATED,
            "Referral",
            referral.pk,
            None,
            {"source": [None, referral.source], "reference": [None, referral.reference]},
        )
        if referral.status in ("accepted", "declined", "more_info"):
            on = min(world.today, referral.received_on + timedelta(days=rng.randint(1, 10)))
            who = world.someone(referral.place_id, "coordinator")
            decisions.append(
                ReferralDecision(
                    referral=referral,
                    decision=referral.status,
                    decided_on=on,
                    note="" if referral.status == "accepted" else "Decided at the triage meeting.",
                    communicated="" if referral.status == "accepted" else "letter",
                    decided_by=who,
                    decided_by_label=who.email,
                    created_at=world.when(on),
                )
            )
    copy_models(decisions)
    for decision in decisions:
        world.record(
            decision.decided_on,
            decision.decided_by,
            decision.referral.place_id,
            AuditAction.CHANGED,
            "Referral",
            decision.referral_id,
            decision.referral.person_id,
            {"decision": [None, decision.decision]},
        )
