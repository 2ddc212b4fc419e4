"""The demo's stays in hospital and C(E)TRs: current and past inpatients, and reviews in
every state (requested, scheduled, held, report issued, cancelled; a LAEP meeting), with
recommendations done, open and overdue. Built through the services, dated back from today.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from dsr.core import audit, dates
from dsr.hospital import services as hospital
from dsr.people.models import Person
from dsr.reviews import services as reviews
from dsr.reviews.models import Cetr
from dsr.risk import services as risk

PANEL = {
    "chair": "Jo Mercer, commissioner (fictional)",
    "clinical_expert": "Dr Sam Okafor, consultant psychiatrist (fictional)",
    "expert_by_experience": "Robin Hale (fictional)",
    "other_panel": "",
    "attendees": "Parent\nCAMHS care coordinator\nWard consultant\nSocial worker",
}


def _ago(days: int) -> date:
    return dates.today() - timedelta(days=days)


class Story:
    """The demo place's inpatients and reviews, one person at a time."""

    def __init__(self, people: Iterable[Person], by: audit.Context, owner: Any) -> None:
        self.free = [p for p in people if p.is_open]
        self.by = by
        self.owner = owner

    def someone(self, age: int, fits: Callable[[Person], bool] = lambda p: True) -> Person:
        """An open record of about this age not yet in the story."""
        for tolerance in range(25):
            for person in self.free:
                if abs(person.age - age) <= tolerance and fits(person):
                    self.free.remove(person)
                    return person
        raise LookupError("the demo has too few people for its hospital story")

    def stay(self, person: Person, days_ago: int, **details: Any) -> Any:
        data = {
            "hospital": "Riverside Hospital (fictional)",
            "provider": "Northbridge Mental Health NHS Trust (fictional)",
            "provider_sector": "nhs",
            "ward_type": "general_adolescent",
            "legal_status": "s3",
            "distance_miles": 11,
            "out_of_area": False,
            "on_register_before": True,
            "admitted_on": max(_ago(days_ago), person.date_of_birth),
            "delayed_discharge": False,
            "delay_reason": "",
        }
        return hospital.admit(person=person, data={**data, **details}, by=self.by)

    def visit(self, stay: Any, days_ago: int, findings: str) -> None:
        hospital.record_visit(
            admission=stay,
            visited_on=_ago(days_ago),
            visited_by="Jo Mercer, commissioner (fictional)",
            findings=findings,
            by=self.by,
        )

    def discharge(self, stay: Any, days_ago: int, to: str = "family_home") -> Any:
        stay.refresh_from_db()
        return hospital.discharge(
            admission=stay,
            discharged_on=_ago(days_ago),
            destination=to,
            expected_version=stay.version,
            by=self.by,
        )

    def review(
        self,
        person: Person,
        kind: str,
        *,
        asked: int,
        on: int | None = None,
        held: bool = False,
        report: int | None = None,
        consent: str = "",
    ) -> Cetr:
        """A review asked for `asked` days ago, booked for `on` days ago (negative: ahead)."""
        review = reviews.request_cetr(
            person=person,
            kind=kind,
            requested_on=_ago(asked),
            reason="Agreed at the tracker meeting",
            by=self.by,
        )
        if on is None:
            return review
        if not consent and kind != "laep":
            consent = (
                "young_person" if person.age_on(_ago(asked)) >= 16 else "parental_responsibility"
            )
        if consent == "parental_responsibility" and person.age_on(_ago(asked)) >= 18:
            consent = "best_interests"
        review = reviews.update_cetr(
            cetr=review,
            data={
                **PANEL,
                "scheduled_for": _ago(on),
                "consent_basis": consent,
                "consent_given_by": "" if not consent else "Recorded by the DSR coordinator",
                "consent_on": _ago(asked) if consent else None,
            },
            expected_version=review.version,
            by=self.by,
        )
        if not held:
            return review
        review = reviews.hold_cetr(
            cetr=review,
            held_on=_ago(on),
            summary="The panel agreed the plan below; hospital is not the right place long term.",
            expected_version=review.version,
            by=self.by,
        )
        if report is not None:
            review = reviews.issue_report(
                cetr=review, issued_on=_ago(report), expected_version=review.version, by=self.by
            )
        return review

    def recommend(self, review: Cetr, text: str, due_in: int, *, done: bool = False) -> None:
        from dsr.actions import services as actions

        link = reviews.add_recommendation(
            cetr=review,
            description=text,
            due_on=max(dates.today() + timedelta(days=due_in), review.held_on),  # type: ignore[type-var]
            owner_user=self.owner,
            by=self.by,
        )
        if done:
            actions.update_action(
                action=link.action,
                status="done",
                note="Done and shared with the family",
                expected_version=link.action.version,
                by=self.by,
            )


def load_hospital(people: Iterable[Person], *, by: audit.Context, owner: Any) -> None:
    """`people`: the place's open records; `owner`: who owns the recommendations."""
    story = Story(people, by, owner)

    # In hospital three weeks: a visit, the post-admission CETR booked for this week.
    ines = story.someone(15)
    stay = story.stay(ines, 20)
    story.visit(stay, 6, "Settled on the ward; family visiting twice a week.")
    story.review(ines, "post_admission", asked=19, on=-3)

    # Turning 18 during a long stay out of area, discharge delayed.
    leo = story.someone(17)
    stay = story.stay(
        leo,
        100,
        hospital="Moorside Hospital (fictional)",
        provider="Moorside Healthcare Ltd (fictional)",
        provider_sector="independent",
        ward_type="ld_unit",
        distance_miles=140,
        out_of_area=True,
        delayed_discharge=True,
        delay_reason="Waiting for a supported-living placement near home",
    )
    for days, findings in [(95, "Distressed by the move; staff consistent."), (50, "Calmer.")]:
        story.visit(stay, days, findings)
    held = story.review(leo, "post_admission", asked=99, on=92, held=True, report=85)
    story.recommend(held, "Refer to the intensive support team", -60, done=True)
    story.recommend(held, "Find a supported-living placement near home", -10)
    story.recommend(held, "Share the positive behaviour support plan with the ward", 14)

    # An adult in a secure unit for most of a year, after a community C(E)TR.
    ava = story.someone(22)
    story.review(ava, "community", asked=320, on=310, held=True, report=300)
    stay = story.stay(
        ava,
        300,
        hospital="Westgate Secure Unit (fictional)",
        provider="Westgate Care Partnership (fictional)",
        provider_sector="independent",
        ward_type="secure",
        legal_status="s37_41",
        distance_miles=85,
        out_of_area=True,
    )
    story.visit(stay, 40, "Ready to plan a step-down; Ministry of Justice consulted.")
    inpatient = story.review(ava, "inpatient", asked=130, on=120, held=True, report=110)
    story.recommend(inpatient, "Start step-down planning with the community team", 30)

    # Admitted ten days ago in a crisis after a LAEP meeting: no C(E)TR asked for yet.
    kai = story.someone(19)
    story.review(kai, "laep", asked=12, on=12, held=True)
    story.stay(kai, 10, ward_type="picu", legal_status="s2", distance_miles=30)

    # Home five days: Red for the setting's days; the post-admission CTR's report due.
    nia = story.someone(20)
    stay = story.stay(nia, 45, ward_type="adult", legal_status="informal")
    story.review(nia, "post_admission", asked=44, on=30, held=True)
    story.discharge(stay, 5)

    # Home eight days, and doing well: a coordinator recorded why not Red, now Amber.
    oscar = story.someone(14)
    stay = story.discharge(story.stay(oscar, 40), 8)
    hospital.lift_red(
        admission=stay,
        reason="Home package in place and working; agreed with the family and CAMHS",
        expected_version=stay.version,
        by=by,
    )
    risk.rate(person=oscar, rating="A", rationale="Settled at home with support", by=by)

    # Home for months, now Green.
    ruby = story.someone(12)
    story.discharge(story.stay(ruby, 260, ward_type="general_adolescent"), 200)
    risk.rate(person=ruby, rating="G", rationale="Settled at home and school", by=by)

    # In the community and rated Red: community C(E)TRs asked for, booked, cancelled.
    for age, booked in [(13, False), (16, True), (10, None)]:
        person = story.someone(age)
        risk.rate(person=person, rating="R", rationale="Family in crisis; placement at risk", by=by)
        review = story.review(person, "community", asked=2, on=-7 if booked else None)
        if booked is None:
            reviews.cancel_cetr(
                cetr=review,
                reason="The family asked to move it: a new date is being found",
                expected_version=review.version,
                by=by,
            )
