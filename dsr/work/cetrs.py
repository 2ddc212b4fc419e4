"""The work items of hospital stays and C(E)TRs (issue 10, parts 3, 4 and 6): C(E)TRs and
oversight visits due, reports to issue, overdue recommendations escalated to the
coordinator, and transitions to plan. Each reads through a door in one query
(dsr/reviews/schedule.py), so My work and the digests record whom they showed.
"""

from __future__ import annotations

from typing import Any

from dsr.actions.scoping import has_open_rule_action
from dsr.core import dates
from dsr.core.access import Permission
from dsr.core.routing import url_in
from dsr.people import transitions
from dsr.people.choices import Status
from dsr.people.models import Person
from dsr.people.scoping import PEOPLE
from dsr.reviews import schedule
from dsr.work.registry import PURPOSE, Provider, WorkItem, register


def _item(key: str, row: schedule.Row) -> WorkItem:
    return WorkItem(
        key=key,
        person_id=row.person_id,
        person_name=row.person_name,
        person_born=row.person_born,
        label=f"{row.label}: {row.note}" if row.note else row.label,
        due_on=row.due_on,
        url=row.url,
    )


def community_cetrs(viewer: Any) -> Any:
    return schedule.community_cetrs(viewer, PURPOSE)


def inpatient_cetrs(viewer: Any) -> Any:
    return schedule.inpatient_cetrs(viewer, PURPOSE)


def oversight_visits(viewer: Any) -> Any:
    return schedule.oversight_visits(viewer, PURPOSE)


def reports_due(viewer: Any) -> Any:
    return schedule.reports_due(viewer, PURPOSE)


def escalated_recommendations(viewer: Any) -> Any:
    """Overdue recommendations, for the coordinator; their own are already in "Your actions"."""
    return schedule.overdue_recommendations(viewer, PURPOSE).exclude(
        owner_user_id=viewer.membership.user_id
    )


def transitions_to_plan(viewer: Any) -> Any:
    """Open records approaching 18 or 25 within the window with no plan action open."""
    policy = viewer.membership.place.settings
    return (
        PEOPLE.list(viewer, purpose=PURPOSE)
        .filter(status=Status.OPEN)
        .filter(transitions.approaching(policy, dates.today()))
        .exclude(has_open_rule_action(transitions.ADULT, transitions.LEAVING))
        .select_related("place__settings")
        .only(
            "id",
            "place_id",
            "given_name",
            "family_name",
            "date_of_birth",
            "place__settings__adult_age",
            "place__settings__register_max_age",
            "place__settings__transition_window_months",
        )
        .order_by("date_of_birth", "id")
    )


def transition_item(person: Person) -> WorkItem:
    due = transitions.transitions_for(person.place.settings, person.date_of_birth, dates.today())
    first = due[0] if due else None
    return WorkItem(
        key=f"transition:{person.pk}:{first.key if first else ''}",
        person_id=person.pk,
        person_name=person.full_name,
        person_born=person.date_of_birth,
        label=f"{first.label}: plan the transition" if first else "Plan the transition",
        due_on=first.birthday if first else None,
        url=url_in(person.place_id, "register:transition", person.pk),
    )


def register_providers() -> None:
    for provider in [
        Provider(
            "inpatient_cetrs",
            "C(E)TRs due for people in hospital",
            Permission.RECORD_CETR,
            inpatient_cetrs,
            lambda stay: _item(f"cetr_due:{stay.pk}:{stay.cetr_due}", schedule.inpatient_row(stay)),
        ),
        Provider(
            "oversight_visits",
            "Oversight visits due",
            Permission.RECORD_OVERSIGHT_VISIT,
            oversight_visits,
            lambda stay: _item(f"visit:{stay.pk}:{stay.visit_due}", schedule.visit_row(stay)),
        ),
        Provider(
            "cetr_reports",
            "C(E)TR reports to issue",
            Permission.RECORD_CETR,
            reports_due,
            lambda review: _item(f"report:{review.pk}", schedule.report_row(review)),
        ),
        Provider(
            "recommendations",
            "Overdue C(E)TR recommendations",
            Permission.RECORD_CETR,
            escalated_recommendations,
            lambda action: _item(
                f"recommendation:{action.pk}", schedule.recommendation_row(action)
            ),
        ),
        Provider(
            "transitions",
            "Transitions to plan",
            Permission.RATE_PERSON,
            transitions_to_plan,
            transition_item,
        ),
    ]:
        register(provider)


def community_cetr_item(task: Any) -> WorkItem:
    """A Red rating's task, linked to the C(E)TR that will complete it (or to asking for one)."""
    return _item(f"action:{task.pk}", schedule.community_row(task))
