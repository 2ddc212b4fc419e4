"""The C(E)TR pages, the place-wide schedule and "My work": what is due, linked to the review
that will meet it, in a bounded number of queries."""

from __future__ import annotations

from datetime import date

import time_machine

from dsr.actions.models import Action
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.hospital import services as hospital
from dsr.reviews import services as reviews
from dsr.reviews.models import Cetr
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at, count_queries, error_messages
from tests.hospital.factories import admit, arrange, hold, request_cetr

MONDAY = "2026-03-02 10:00:00+00:00"
EARLIER = "2026-01-05 10:00:00+00:00"


def red(place, **extra):
    with time_machine.travel(EARLIER):
        return factories.make_person(place, rating="R", date_of_birth=date(2012, 6, 1), **extra)


@time_machine.travel(MONDAY)
def test_a_coordinator_takes_a_community_cetr_from_request_to_report(coordinator, place_a):
    person = red(place_a, given_name="Rory")
    response = coordinator.post(
        at(person, "reviews:request"),
        {
            "kind": "community",
            "requested_on_day": "2",
            "requested_on_month": "3",
            "requested_on_year": "2026",
        },
    )
    review = Cetr.objects.get(person=person)
    assert response["Location"] == at(review, "reviews:cetr")
    page = coordinator.get(at(review, "reviews:cetr")).content.decode()
    assert "Community CETR" in page and "Hold a community C(E)TR (rated Red)" in page
    # Marked held with no consent: refused, and the form says why
    response = coordinator.post(
        at(review, "reviews:hold"),
        {
            "held_on_day": "2",
            "held_on_month": "3",
            "held_on_year": "2026",
            "summary": "Care is right",
            "version": "1",
        },
    )
    assert any("Record consent for this review" in m for m in error_messages(response))
    response = coordinator.post(
        at(review, "reviews:details"),
        {
            "scheduled_for_day": "2",
            "scheduled_for_month": "3",
            "scheduled_for_year": "2026",
            "chair": "Cass",
            "clinical_expert": "Dr Ellis",
            "expert_by_experience": "Robin",
            "consent_basis": "parental_responsibility",
            "consent_given_by": "Mum",
            "consent_on_day": "1",
            "consent_on_month": "3",
            "consent_on_year": "2026",
            "version": "1",
        },
    )
    assert response.status_code == 302
    response = coordinator.post(
        at(review, "reviews:hold"),
        {
            "held_on_day": "2",
            "held_on_month": "3",
            "held_on_year": "2026",
            "summary": "Care is right",
            "version": "2",
        },
    )
    assert response.status_code == 302
    assert Action.objects.get(person=person, rule_key="community_cetr").status == "done"
    response = coordinator.post(
        at(review, "reviews:recommend"),
        {
            "description": "Refer to the intensive support team",
            "owner_name": "Sam Jones, CAMHS",
            "due_on_day": "20",
            "due_on_month": "3",
            "due_on_year": "2026",
        },
    )
    assert response.status_code == 302
    page = coordinator.get(at(review, "reviews:cetr")).content.decode()
    assert "0 done, 1 open, 0 overdue" in page and "Sam Jones, CAMHS" in page
    response = coordinator.post(
        at(review, "reviews:report"),
        {
            "report_issued_on_day": "1",
            "report_issued_on_month": "3",
            "report_issued_on_year": "2026",
            "version": "3",
        },
    )
    assert any("cannot be dated before the review" in m for m in error_messages(response))


@time_machine.travel(MONDAY)
def test_the_request_form_can_start_from_the_kind_a_task_needs(coordinator, place_a):
    person = red(place_a)
    page = coordinator.get(at(person, "reviews:request") + "?kind=community").content.decode()
    assert 'value="community" checked' in page


@time_machine.travel(MONDAY)
def test_the_schedule_lists_everything_due_and_links_the_review_meeting_it(client_for, place_a):
    rory = red(place_a, given_name="Rory")
    sam = red(place_a, given_name="Sam")
    booked = arrange(request_cetr(sam), on=date(2026, 3, 9))
    ines = red(place_a, given_name="Ines")
    stay = admit(ines, admitted_on=date(2026, 2, 16))
    held = hold(arrange(request_cetr(factories.make_person(place_a, given_name="Hal"))))
    body = client_for(Role.VIEWER).get(at(place_a, "reviews:schedule")).content.decode()
    # Rory's Red task has no review yet: the link asks for one
    assert at(rory, "reviews:request") + "?kind=community" in body
    assert "Not yet requested" in body
    # Sam's task links the review that will complete it
    assert at(booked, "reviews:cetr") in body and "Scheduled for 9 March 2026" in body
    # Ines: post-admission C(E)TR due 2 March (today) and an oversight visit in six weeks
    assert "Post-admission C(E)TR (Riverside Hospital)" in body
    assert at(stay, "hospital:visit_new") in body
    # Hal's report is due 16 March
    assert "16 March 2026" in body and at(held, "reviews:cetr") in body
    assert AuditEvent.objects.filter(action="listed", changes__page="C(E)TR schedule").exists()


def _queries(client, url) -> int:
    client.get(url)
    return count_queries(lambda: client.get(url))


def _everything_due(place, cast, n):
    for _ in range(n):
        request_cetr(red(place))
        red(place)
        admit(red(place))
        review = hold(arrange(request_cetr(factories.make_person(place))))
        reviews.add_recommendation(
            cetr=review,
            description="Overdue",
            due_on=date(2026, 3, 2),
            owner_user=cast[Role.KEYWORKER],
            by=SYSTEM,
        )


def test_the_schedule_and_my_work_queries_do_not_grow_with_what_is_due(client_for, cast, place_a):
    coordinator = client_for(Role.COORDINATOR)
    with time_machine.travel(MONDAY):
        _everything_due(place_a, cast, 1)
    with time_machine.travel("2026-03-10 10:00:00+00:00"):
        schedule = _queries(coordinator, at(place_a, "reviews:schedule"))
        work = _queries(coordinator, at(place_a, "work:my_work"))
    with time_machine.travel(MONDAY):
        _everything_due(place_a, cast, 12)
    with time_machine.travel("2026-03-10 10:00:00+00:00"):
        assert _queries(coordinator, at(place_a, "reviews:schedule")) == schedule <= 26
        assert _queries(coordinator, at(place_a, "work:my_work")) == work <= 30


def test_my_work_shows_inpatient_cetrs_visits_reports_and_escalations(client_for, cast, place_a):
    with time_machine.travel(MONDAY):
        ines = red(place_a, given_name="Ines")
        stay = admit(ines, admitted_on=date(2026, 2, 16))
        review = hold(arrange(request_cetr(factories.make_person(place_a, given_name="Hal"))))
        reviews.add_recommendation(
            cetr=review,
            description="Ask for a housing assessment",
            due_on=date(2026, 3, 5),
            owner_user=cast[Role.KEYWORKER],
            by=SYSTEM,
        )
    with time_machine.travel("2026-03-10 10:00:00+00:00"):
        coordinator = client_for(Role.COORDINATOR).get(at(place_a, "work:my_work"))
        body = coordinator.content.decode()
        assert "C(E)TRs due for people in hospital" in body
        assert "Post-admission C(E)TR (Riverside Hospital): Not yet requested" in body
        assert at(stay, "hospital:visit_new") in body
        assert "CETR report" in body
        # Escalated to the coordinator, and in the owner's own actions
        assert "Recommendation: Ask for a housing assessment" in body
        keyworker = client_for(Role.KEYWORKER).get(at(place_a, "work:my_work")).content.decode()
        assert "Ask for a housing assessment" in keyworker
        assert "Overdue C(E)TR recommendations" not in keyworker


def test_the_reminder_digest_includes_inpatient_cetrs_due(cast, place_a):
    from django.core import mail
    from django.core.management import call_command

    with time_machine.travel(MONDAY):
        admit(red(place_a, given_name="Ines"), admitted_on=date(2026, 2, 1))
    with time_machine.travel("2026-03-02 07:00:00+00:00"):
        call_command("send_reminders")
    digest = next(m for m in mail.outbox if m.to == [cast[Role.COORDINATOR].email])
    # what kind of work, and a link to it; never who (ADR 0019), nor where they are
    assert "C(E)TRs due for people in hospital" in digest.body
    assert "cetrs/new/?kind=post_admission" in digest.body
    assert "Ines" not in digest.body and "Riverside Hospital" not in digest.body


@time_machine.travel(MONDAY)
def test_a_stay_records_a_review_held_during_it_and_not_after(coordinator, place_a):
    person = red(place_a)
    stay = admit(person, admitted_on=date(2026, 2, 16))
    review = arrange(request_cetr(person, kind="post_admission"))
    hold(review)
    stay.refresh_from_db()
    assert stay.last_cetr_on == date(2026, 3, 2)
    hospital.record_visit(
        admission=stay, visited_on=date(2026, 3, 2), visited_by="C", findings="F", by=SYSTEM
    )
    page = coordinator.get(at(person, "register:person")).content.decode()
    assert "Inpatient C(E)TR, due 2 June 2026" in page


@time_machine.travel(MONDAY)
def test_a_long_schedule_shows_the_soonest_and_says_how_many_more(client_for, place_a, monkeypatch):
    from dsr.reviews import schedule

    monkeypatch.setattr(schedule, "SHOWN", 2)
    for name in ("Ann", "Bea", "Cat"):
        red(place_a, given_name=name)
    body = client_for(Role.COORDINATOR).get(at(place_a, "reviews:schedule")).content.decode()
    assert "Community C(E)TRs for people rated Red</a> (3)" in body
    assert "The 2 soonest of 3." in body
