"""Stays in hospital and C(E)TRs for the bench register (generator version 5).

Each person's stays follow their planned ratings: a run of Blue ratings is a stay, from
the first Blue to the next other rating (or still open, when the current rating is Blue).
Open stays get oversight visits, a post-admission C(E)TR (mostly held, some with their
report issued), sometimes a repeat review asked for; their due dates come from the app's own
rules (hospital/rules.py), as the services would store them. People rated Red now get the
community C(E)TR task a Red rating opens, and about half of them a review asked for or
booked that will complete it. Held reviews get recommendations. Each row gets the audit
event its service writes. Imported after django.setup().
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bench.bulk import copy_models
from dsr.actions.models import Action, ActionSource, ActionStatus
from dsr.core.models import AuditAction
from dsr.hospital import rules
from dsr.hospital.choices import DISCHARGE_DESTINATIONS, LegalStatus, ProviderSector, WardType
from dsr.hospital.models import Admission, OversightVisit
from dsr.people.choices import Status
from dsr.reviews.models import Cetr, CetrKind, CetrStatus, ConsentBasis, Recommendation
from dsr.reviews.services import review_type_for
from dsr.risk.rules import COMMUNITY_CETR

HOSPITALS = [
    ("Riverside Hospital", "Riverside Mental Health NHS Trust", ProviderSector.NHS),
    ("Moorside Hospital", "Moorside Healthcare Ltd", ProviderSector.INDEPENDENT),
    ("Westgate Secure Unit", "Westgate Care Partnership", ProviderSector.INDEPENDENT),
    ("The Beeches", "Northern Partnership NHS Trust", ProviderSector.NHS),
]
WARDS = list(WardType.values)
SECTIONS = [LegalStatus.INFORMAL, LegalStatus.S2, LegalStatus.S3, LegalStatus.S37_41]
DESTINATIONS = [value for value, _ in DISCHARGE_DESTINATIONS]
PANEL = {
    "chair": "Commissioner (bench)",
    "clinical_expert": "Clinical expert (bench)",
    "expert_by_experience": "Expert by experience (bench)",
    "attendees": "Parent\nCare coordinator",
}
RECOMMENDATIONS = [
    "Refer to the intensive support team",
    "Find a placement near home",
    "Share the positive behaviour support plan",
]


def _stays(plan: Any) -> list[tuple[date, date | None]]:
    """(admitted, discharged or None) for each run of Blue ratings."""
    found: list[tuple[date, date | None]] = []
    start: date | None = None
    for day, rating, _context in plan.ratings:
        if rating == "B" and start is None:
            start = day
        elif rating != "B" and start is not None:
            found.append((start, day))
            start = None
    if start is not None:
        open_now = plan.person.status == Status.OPEN
        found.append((start, None if open_now else plan.until))
    return found


class Wards:
    def __init__(self, world: Any) -> None:
        self.world = world
        self.rng = world.rng
        self.admissions: list[Admission] = []
        self.visits: list[OversightVisit] = []
        self.cetrs: list[Cetr] = []
        self.tasks: list[Action] = []
        self.recommended: list[tuple[Cetr, Action]] = []

    def day_between(self, first: date, last: date) -> date:
        return self.world.day_between(first, max(first, last))

    def plan(self, plans: list[Any]) -> None:
        today = self.world.today
        for plan in plans:
            person = plan.person
            for admitted, discharged in _stays(plan):
                self._stay(plan, admitted, discharged)
            if person.status == Status.OPEN and person.current_rating == "R":
                self._red(plan, today)

    def _stay(self, plan: Any, admitted: date, discharged: date | None) -> None:
        rng, person, today = self.rng, plan.person, self.world.today
        hospital, provider, sector = rng.choice(HOSPITALS)
        ward = rng.choice(WARDS)
        stay = Admission(
            person=person,
            place_id=person.place_id,
            hospital=hospital,
            provider=provider,
            provider_sector=sector,
            ward_type=ward,
            distance_miles=rng.randint(2, 180),
            out_of_area=rng.random() < 0.3,
            legal_status=rng.choice(SECTIONS),
            on_register_before=True,
            admitted_on=admitted,
            discharged_on=discharged,
            discharge_destination=rng.choice(DESTINATIONS) if discharged else "",
            community_cetr_before=rng.random() < 0.3,
            recorded_by=plan.added_by,
            created_at=self.world.when(admitted),
            updated_at=self.world.when(discharged or admitted),
        )
        end = discharged or today
        if discharged is None and rng.random() < 0.15:
            stay.delayed_discharge = True
            stay.delay_reason = "Waiting for a community placement"
        last_visit = None
        if discharged is None and rng.random() < 0.7:
            last_visit = self.day_between(admitted, end)
            self.visits.append(
                OversightVisit(
                    admission=stay,
                    person=person,
                    place_id=person.place_id,
                    visited_on=last_visit,
                    visited_by="Commissioner (bench)",
                    findings="Seen on the ward; plan discussed.",
                    created_at=self.world.when(last_visit),
                )
            )
        if not stay.community_cetr_before and rng.random() < 0.7:
            held = admitted + timedelta(days=rng.randint(5, 14))
            if held <= end:
                review = self._review(
                    plan, CetrKind.POST_ADMISSION, admitted, held, stay=stay, report=True
                )
                stay.last_cetr_on = review.held_on
        if discharged is None:
            due = rules.due_for(
                self.world.policy[person.place_id],
                rules.Stay(
                    born=person.date_of_birth,
                    admitted_on=admitted,
                    secure=stay.is_secure,
                    community_cetr_before=stay.community_cetr_before,
                    last_cetr_on=stay.last_cetr_on,
                    last_visit_on=last_visit,
                ),
            )
            stay.cetr_due, stay.cetr_due_kind, stay.visit_due = (
                due.cetr_on,
                due.cetr_kind,
                due.visit_on,
            )
            if rng.random() < 0.2:
                kind = CetrKind.INPATIENT if stay.last_cetr_on else CetrKind.POST_ADMISSION
                self._review(plan, kind, max(admitted, today - timedelta(days=5)), None, stay=stay)
        self.admissions.append(stay)

    def _red(self, plan: Any, today: date) -> None:
        person = plan.person
        policy = self.world.policy[person.place_id]
        task = Action(
            person=person,
            place_id=person.place_id,
            description="Hold a community C(E)TR (rated Red)",
            owner_user=plan.added_by,
            due_on=person.rated_on + timedelta(days=policy.community_cetr_days),
            status=ActionStatus.OPEN,
            source=ActionSource.RATING,
            rule_key=COMMUNITY_CETR,
            created_by=plan.added_by,
            created_at=self.world.when(person.rated_on),
            updated_at=self.world.when(person.rated_on),
        )
        self.tasks.append(task)
        if self.rng.random() < 0.5:
            self._review(plan, CetrKind.COMMUNITY, person.rated_on, None, task=task)

    def _review(
        self,
        plan: Any,
        kind: str,
        asked: date,
        held: date | None,
        *,
        stay: Admission | None = None,
        task: Action | None = None,
        report: bool = False,
    ) -> Cetr:
        rng, person, today = self.rng, plan.person, self.world.today
        policy = self.world.policy[person.place_id]
        adult = person.age_on(asked) >= policy.adult_age
        review = Cetr(
            person=person,
            place_id=person.place_id,
            kind=kind,
            review_type=review_type_for(person, held or asked),
            admission=stay,
            task=task,
            reason="Agreed at the tracker meeting",
            requested_on=asked,
            requested_by=plan.added_by,
            created_at=self.world.when(asked),
            updated_at=self.world.when(held or asked),
            consent_basis=ConsentBasis.BEST_INTERESTS if adult else ConsentBasis.YOUNG_PERSON,
            consent_given_by="Recorded by the coordinator",
            consent_on=asked,
            **PANEL,
        )
        if held is not None:
            review.status, review.held_on, review.scheduled_for = CetrStatus.HELD, held, held
            review.summary = "Care reviewed; recommendations agreed."
            review.report_due = held + timedelta(days=policy.cetr_report_days)
            issued = held + timedelta(days=rng.randint(3, 20))
            if report and issued <= today and rng.random() < 0.8:
                review.status, review.report_issued_on = CetrStatus.REPORT_ISSUED, issued
            for text in rng.sample(RECOMMENDATIONS, rng.randint(0, 2)):
                due = held + timedelta(days=rng.randint(14, 60))
                done = due < today and rng.random() < 0.7
                self.recommended.append(
                    (
                        review,
                        Action(
                            person=person,
                            place_id=person.place_id,
                            description=text,
                            owner_user=plan.added_by,
                            due_on=due,
                            status=ActionStatus.DONE if done else ActionStatus.OPEN,
                            source=ActionSource.CETR,
                            created_by=plan.added_by,
                            created_at=self.world.when(held),
                            updated_at=self.world.when(held),
                        ),
                    )
                )
        elif rng.random() < 0.5:
            review.status = CetrStatus.SCHEDULED
            review.scheduled_for = today + timedelta(days=rng.randint(1, 21))
        else:
            review.consent_basis, review.consent_given_by, review.consent_on = "", "", None
        self.cetrs.append(review)
        return review

    def write(self) -> None:
        # Parents first; a child planned before its parent had an id takes it now.
        copy_models(self.admissions)
        for visit in self.visits:
            visit.admission = visit.admission
        copy_models(self.visits)
        copy_models(self.tasks)
        for review in self.cetrs:
            review.admission, review.task = review.admission, review.task
        copy_models(self.cetrs)
        actions = [action for _, action in self.recommended]
        copy_models(actions)
        links = [Recommendation(cetr=c, action=a) for c, a in self.recommended]
        copy_models(links)
        record = self.world.record
        for stay in self.admissions:
            person = stay.person
            record(
                stay.admitted_on,
                stay.recorded_by,
                person.place_id,
                AuditAction.CREATED,
                "Admission",
                stay.pk,
                person.pk,
                {"hospital": [None, stay.hospital], "admitted_on": [None, str(stay.admitted_on)]},
            )
            if stay.discharged_on:
                changes = {"discharged_on": [None, str(stay.discharged_on)]}
                record(
                    stay.discharged_on,
                    stay.recorded_by,
                    person.place_id,
                    AuditAction.CHANGED,
                    "Admission",
                    stay.pk,
                    person.pk,
                    changes,
                )
        for visit in self.visits:
            record(
                visit.visited_on,
                None,
                visit.place_id,
                AuditAction.CREATED,
                "OversightVisit",
                visit.pk,
                visit.person_id,
                {"visited_on": [None, str(visit.visited_on)]},
            )
        for review in self.cetrs:
            record(
                review.requested_on,
                review.requested_by,
                review.place_id,
                AuditAction.CREATED,
                "Cetr",
                review.pk,
                review.person_id,
                {"kind": [None, review.kind]},
            )
        for action in [*self.tasks, *actions]:
            record(
                action.created_at.date(),
                action.created_by,
                action.place_id,
                AuditAction.CREATED,
                "Action",
                action.pk,
                action.person_id,
                {"description": [None, action.description]},
            )


def write_wards(world: Any, plans: list[Any]) -> int:
    """Plan and write every stay, visit, review and recommendation; returns the stays."""
    wards = Wards(world)
    wards.plan(plans)
    wards.write()
    return len(wards.admissions)
