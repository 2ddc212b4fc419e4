"""What is due: C(E)TRs by policy, their reports, oversight visits, and recommendations gone
overdue (issue 10, part 3). One query each, read through the doors: the place-wide
schedule page and "My work" (dsr/work/cetrs.py) both list them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, F, Window

from dsr.actions.models import Action, ActionSource
from dsr.actions.scoping import ACTIONS
from dsr.core.routing import url_in
from dsr.hospital.models import Admission
from dsr.hospital.scoping import ADMISSIONS
from dsr.people.choices import Status
from dsr.reviews.models import Cetr, CetrKind, CetrStatus
from dsr.reviews.scoping import CETRS, live_review
from dsr.reviews.services import COMMUNITY_TASK

SHOWN = 50  # per section: the soonest, and how many more there are
# The columns a row shows: six lists of fifty, each row with its person, read only what
# the rows need (every column of both was most of the page's time: make bench).
PERSON = ("person", "person__given_name", "person__family_name", "person__date_of_birth")
ACTION = ("place_id", *PERSON, "description", "due_on")
STAY = ("place_id", *PERSON, "hospital", "admitted_on", "cetr_due", "cetr_due_kind", "visit_due")
REVIEW = ("place_id", *PERSON, "kind", "review_type", "requested_on", "scheduled_for")


def community_cetrs(viewer: Any, purpose: str) -> Any:
    """Red means a community C(E)TR (DOMAIN.md): the task a Red rating opened, with the
    review that will complete it, if one has been asked for."""
    return (
        ACTIONS.list(viewer, purpose=purpose)
        .open()
        .filter(rule_key=COMMUNITY_TASK, person__status=Status.OPEN)
        .annotate(cetr_id=live_review("task_id"), cetr_on=live_review("task_id", "scheduled_for"))
        .select_related("person")
        .only(*ACTION)
        .order_by("due_on", "id")
    )


def inpatient_cetrs(viewer: Any, purpose: str) -> Any:
    """Each inpatient's next C(E)TR: post-admission, or the repeat review."""
    return (
        ADMISSIONS.list(viewer, purpose=purpose)
        .current()
        .filter(person__status=Status.OPEN)
        .annotate(
            cetr_id=live_review("admission_id"),
            cetr_on=live_review("admission_id", "scheduled_for"),
        )
        .select_related("person")
        .only(*STAY)
        .order_by("cetr_due", "id")
    )


def oversight_visits(viewer: Any, purpose: str) -> Any:
    return (
        ADMISSIONS.list(viewer, purpose=purpose)
        .current()
        .filter(person__status=Status.OPEN)
        .select_related("person")
        .only(*STAY)
        .order_by("visit_due", "id")
    )


def reports_due(viewer: Any, purpose: str) -> Any:
    """Reviews held whose report has not yet gone to the attendees."""
    return (
        CETRS.list(viewer, purpose=purpose)
        .filter(status=CetrStatus.HELD, person__status=Status.OPEN, report_due__isnull=False)
        .select_related("person")
        .only(*REVIEW, "held_on", "report_due")
        .order_by("report_due", "id")
    )


def booked(viewer: Any, purpose: str) -> Any:
    """Reviews and LAEP meetings asked for or booked, soonest first."""
    return (
        CETRS.list(viewer, purpose=purpose)
        .live()
        .filter(person__status=Status.OPEN)
        .select_related("person")
        .only(*REVIEW)
        .order_by(F("scheduled_for").asc(nulls_last=True), "requested_on", "id")
    )


def overdue_recommendations(viewer: Any, purpose: str) -> Any:
    """Recommendations past their due date: escalated to the coordinator (part 4).

    A recommendation's action is always a C(E)TR's (services.add_recommendation opens it
    so). Saying so lets PostgreSQL start from the place's own overdue C(E)TR actions and
    look each one's recommendation up; without it, it hashed every recommendation in the
    country to join them (3 to 5 ms at national scale, 1 ms with it: make bench)."""
    return (
        ACTIONS.list(viewer, purpose=purpose)
        .overdue()
        .filter(source=ActionSource.CETR, recommendation__isnull=False)
        .select_related("person", "owner_user", "owner_organisation", "recommendation")
        .only(
            *ACTION,
            "owner_name",
            "owner_user__full_name",
            "owner_user__email",
            "owner_organisation__name",
            "recommendation__cetr_id",
        )
        .order_by("due_on", "id")
    )


@dataclass(frozen=True)
class Row:
    person_id: int
    person_name: str
    person_born: date
    label: str
    due_on: date | None
    url: str
    note: str = ""


def _on(day: date | None) -> str:
    return f"{day:%-d %B %Y}" if day else ""


def _planned(row: Any) -> str:
    if row.cetr_id is None:
        return "Not yet requested"
    return f"Scheduled for {_on(row.cetr_on)}" if row.cetr_on else "Requested, not yet booked"


def _review_link(row: Any, kind: str) -> str:
    if row.cetr_id is not None:
        return url_in(row.place_id, "reviews:cetr", row.cetr_id)
    return url_in(row.place_id, "reviews:request", row.person_id) + f"?kind={kind}"


def community_row(task: Action) -> Row:
    return Row(
        task.person_id,
        task.person.full_name,
        task.person.date_of_birth,
        task.description,
        task.due_on,
        _review_link(task, CetrKind.COMMUNITY),
        _planned(task),
    )


def inpatient_row(stay: Admission) -> Row:
    return Row(
        stay.person_id,
        stay.person.full_name,
        stay.person.date_of_birth,
        f"{stay.get_cetr_due_kind_display()} ({stay.hospital})",
        stay.cetr_due,
        _review_link(stay, stay.cetr_due_kind),
        _planned(stay),
    )


def visit_row(stay: Admission) -> Row:
    return Row(
        stay.person_id,
        stay.person.full_name,
        stay.person.date_of_birth,
        f"Oversight visit ({stay.hospital})",
        stay.visit_due,
        url_in(stay.place_id, "hospital:visit_new", stay.pk),
        f"In hospital since {_on(stay.admitted_on)}",
    )


def report_row(review: Cetr) -> Row:
    return Row(
        review.person_id,
        review.person.full_name,
        review.person.date_of_birth,
        f"{review.title} report",
        review.report_due,
        url_in(review.place_id, "reviews:cetr", review.pk),
        f"Held {_on(review.held_on)}",
    )


def booked_row(review: Cetr) -> Row:
    return Row(
        review.person_id,
        review.person.full_name,
        review.person.date_of_birth,
        review.title,
        review.scheduled_for,
        url_in(review.place_id, "reviews:cetr", review.pk),
        "Scheduled" if review.scheduled_for else f"Requested {_on(review.requested_on)}",
    )


def recommendation_row(action: Action) -> Row:
    return Row(
        action.person_id,
        action.person.full_name,
        action.person.date_of_birth,
        f"Recommendation: {action.description}",
        action.due_on,
        url_in(action.place_id, "reviews:cetr", action.recommendation.cetr_id),
        f"Owner: {action.owner_label}",
    )


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    rows: list[Row]
    total: int  # how many are due in all (a count shows no one: nothing to audit)


SECTIONS: list[tuple[str, str, Callable[[Any, str], Any], Callable[[Any], Row]]] = [
    ("community", "Community C(E)TRs for people rated Red", community_cetrs, community_row),
    ("inpatient", "C(E)TRs for people in hospital", inpatient_cetrs, inpatient_row),
    ("visits", "Commissioner oversight visits", oversight_visits, visit_row),
    ("reports", "Reports to issue", reports_due, report_row),
    ("booked", "Requested and booked", booked, booked_row),
    ("recommendations", "Overdue recommendations", overdue_recommendations, recommendation_row),
]
PURPOSE = "C(E)TR schedule"


def sections(viewer: Any) -> list[Section]:
    found = []
    with viewer.one_event(PURPOSE):  # the page is one read of everyone it shows
        for key, title, query, row in SECTIONS:
            # How many are due in all, counted by the query that finds the soonest: one
            # query a section, not two (make bench: the counts were a third of the SQL).
            soonest = list(query(viewer, PURPOSE).annotate(in_all=Window(Count("pk")))[:SHOWN])
            total = soonest[0].in_all if soonest else 0
            found.append(Section(key, title, [row(r) for r in soonest], total))
    return found
