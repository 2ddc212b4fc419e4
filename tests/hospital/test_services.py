"""Stays in hospital: Blue on admission, Red after discharge, due dates kept on the stay, and
bad input refused with nothing written."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection  # noqa: F401 - `connection` names the skipif engine

from dsr.core import audit, dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent, StaleVersion
from dsr.hospital import services as hospital
from dsr.hospital.models import Admission, OversightVisit
from dsr.people import services as people
from dsr.risk import services as risk
from dsr.risk.models import Rating
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import READS
from tests.hospital.factories import admit, discharge, stay_data

pytestmark = pytest.mark.django_db

MONDAY = "2026-03-02 10:00:00+00:00"


class Unchanged:
    """Nothing written: no stay, visit or rating, no audit event but reads and refusals."""

    def __enter__(self):
        self.before = self.state()
        return self

    @staticmethod
    def state():
        return (
            list(Admission.objects.order_by("id").values()),
            OversightVisit.objects.count(),
            Rating.objects.count(),
            AuditEvent.objects.exclude(action__in=READS).count(),
        )

    def __exit__(self, *exc):
        assert self.state() == self.before


def child(place, **extra):
    return factories.make_person(place, date_of_birth=date(2012, 6, 1), **extra)


def as_role(user, role: Role, place) -> audit.Context:
    return audit.Context(actor=user, place_id=place.pk, actor_label=user.email, role=role.value)


def test_admission_rates_the_person_blue_and_sets_what_falls_due(place_a):
    with time_machine.travel("2026-01-05 10:00:00+00:00"):
        person = child(place_a, rating="A")
    with time_machine.travel(MONDAY):
        stay = admit(person, admitted_on=date(2026, 2, 27))
    person.refresh_from_db()
    assert person.current_rating == "B"
    latest = Rating.objects.filter(person=person).latest("id")
    assert (latest.context, latest.decided_on) == ("admission", date(2026, 2, 27))
    # No community C(E)TR before: a post-admission one within 14 days; a visit in 6 weeks
    assert (stay.cetr_due, stay.cetr_due_kind) == (date(2026, 3, 13), "post_admission")
    assert stay.visit_due == date(2026, 4, 10)
    assert AuditEvent.objects.filter(action="created", object_type="Admission").count() == 1


@time_machine.travel(MONDAY)
def test_an_admission_recorded_late_is_rated_on_the_latest_ratings_day(place_a):
    person = child(place_a)  # rated today
    admit(person, admitted_on=date(2026, 2, 20))
    assert Rating.objects.filter(person=person).latest("id").decided_on == date(2026, 3, 2)


@time_machine.travel(MONDAY)
def test_discharge_rates_red_and_a_rating_other_than_red_is_refused_for_the_setting_days(place_a):
    person = child(place_a)
    stay = admit(person, admitted_on=date(2026, 2, 1))
    discharge(stay, on=date(2026, 3, 2))
    person.refresh_from_db()
    assert person.current_rating == "R"
    stay.refresh_from_db()
    assert (stay.cetr_due, stay.visit_due, stay.cetr_due_kind) == (None, None, "")
    with Unchanged(), pytest.raises(ValidationError, match="stays Red until 16 March 2026"):
        risk.rate(person=person, rating="G", rationale="Settled at home", by=SYSTEM)
    with time_machine.travel("2026-03-15 10:00:00+00:00"), pytest.raises(ValidationError):
        risk.rate(person=person, rating="A", rationale="Better", by=SYSTEM)
    with time_machine.travel("2026-03-16 10:00:00+00:00"):
        assert risk.rate(person=person, rating="G", rationale="Settled", by=SYSTEM).rating == "G"


@time_machine.travel(MONDAY)
def test_red_after_discharge_ends_early_only_when_a_coordinator_records_why(place_a, cast):
    person = child(place_a)
    stay = discharge(admit(person, admitted_on=date(2026, 2, 1)), on=date(2026, 3, 1))
    keyworker = as_role(cast[Role.KEYWORKER], Role.KEYWORKER, place_a)
    with Unchanged(), pytest.raises(ValidationError, match="Only a coordinator"):
        hospital.lift_red(
            admission=stay, reason="Settled", expected_version=stay.version, by=keyworker
        )
    with Unchanged(), pytest.raises(ValidationError, match="Enter why"):
        hospital.lift_red(admission=stay, reason=" ", expected_version=stay.version, by=SYSTEM)
    coordinator = as_role(cast[Role.COORDINATOR], Role.COORDINATOR, place_a)
    lifted = hospital.lift_red(
        admission=stay,
        reason="Home package in place; agreed with the family",
        expected_version=stay.version,
        by=coordinator,
    )
    assert lifted.red_lifted_by == cast[Role.COORDINATOR]
    assert risk.rate(person=person, rating="A", rationale="Reviewed", by=coordinator).rating == "A"


@time_machine.travel(MONDAY)
def test_an_inpatient_is_rated_blue_until_the_discharge_is_recorded(place_a):
    person = child(place_a)
    admit(person, admitted_on=date(2026, 2, 1))
    with Unchanged(), pytest.raises(ValidationError, match="is in hospital"):
        risk.rate(person=person, rating="R", rationale="Crisis", by=SYSTEM)
    assert risk.rate(person=person, rating="B", rationale="Still in", by=SYSTEM).rating == "B"


@time_machine.travel(MONDAY)
def test_a_readmission_inside_the_red_days_rates_blue_again(place_a):
    person = child(place_a)
    discharge(admit(person, admitted_on=date(2026, 2, 1)), on=date(2026, 2, 25))
    again = admit(person, admitted_on=date(2026, 3, 1))
    person.refresh_from_db()
    assert person.current_rating == "B" and again.is_current


# --- Bad input: a clear error, nothing written -------------------------------------------


@time_machine.travel(MONDAY)
def test_a_discharge_before_the_admission_is_refused(place_a):
    stay = admit(child(place_a), admitted_on=date(2026, 2, 20))
    with Unchanged(), pytest.raises(ValidationError) as refused:
        discharge(stay, on=date(2026, 2, 19))
    assert refused.value.message_dict["discharged_on"] == [
        "The date discharged cannot be before the date admitted (20 February 2026)"
    ]


@time_machine.travel(MONDAY)
def test_a_second_open_stay_is_refused(place_a):
    person = child(place_a)
    admit(person, admitted_on=date(2026, 2, 20))
    with Unchanged(), pytest.raises(ValidationError, match="already in hospital"):
        admit(person, admitted_on=date(2026, 3, 1))


@time_machine.travel(MONDAY)
def test_overlapping_stays_are_refused(place_a):
    person = child(place_a)
    discharge(admit(person, admitted_on=date(2026, 1, 5)), on=date(2026, 2, 10))
    with Unchanged(), pytest.raises(ValidationError) as refused:
        admit(person, admitted_on=date(2026, 2, 1))
    assert "overlaps the stay at Riverside Hospital" in refused.value.message_dict["admitted_on"][0]
    # Leaving and coming back on one day is two stays, not an overlap
    assert admit(person, admitted_on=date(2026, 2, 10)).is_current


@time_machine.travel(MONDAY)
def test_correcting_a_stay_so_it_overlaps_another_is_refused(place_a):
    person = child(place_a)
    first = discharge(admit(person, admitted_on=date(2026, 1, 5)), on=date(2026, 1, 20))
    admit(person, admitted_on=date(2026, 2, 1))
    first.refresh_from_db()
    with Unchanged(), pytest.raises(ValidationError, match="must be on or before the discharge"):
        hospital.update_admission(
            admission=first,
            data={"admitted_on": date(2026, 1, 25)},
            expected_version=first.version,
            by=SYSTEM,
        )


@time_machine.travel(MONDAY)
@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"admitted_on": date(2026, 3, 3)}, "admitted_on", "must be today or in the past"),
        ({"admitted_on": date(2011, 1, 1)}, "admitted_on", "before the person's date of birth"),
        ({"admitted_on": "yesterday"}, "admitted_on", "must be a real date"),
        ({"ward_type": "castle"}, "ward_type", "Select a valid choice for ward type"),
        ({"legal_status": "s99"}, "legal_status", "Select a valid choice for legal status"),
        ({"hospital": " "}, "hospital", "Enter the hospital"),
        ({"hospital": "x" * 201}, "hospital", "Hospital must be 200 characters or fewer"),
        ({"distance_miles": -3}, "distance_miles", "whole number of miles"),
        ({"distance_miles": True}, "distance_miles", "whole number of miles"),
        ({"delayed_discharge": True}, "delay_reason", "Enter why the discharge is delayed"),
        ({"out_of_area": "no"}, "out_of_area", "Select a valid choice"),
        ({"delay_reason": "\x00"}, "delay_reason", "must not contain null characters"),
    ],
)
def test_bad_admission_values_are_refused_and_nothing_is_written(place_a, change, field, message):
    person = child(place_a)
    with Unchanged(), pytest.raises(ValidationError) as refused:
        hospital.admit(person=person, data=stay_data(**change), by=SYSTEM)
    assert any(message in m for m in refused.value.message_dict[field]), refused.value


@time_machine.travel(MONDAY)
def test_a_closed_record_takes_no_admission(place_a):
    person = child(place_a)
    people.close_record(
        person=person,
        reason="moved_out_of_area",
        closed_on=dates.today(),
        note="",
        expected_version=person.version,
        by=SYSTEM,
    )
    with Unchanged(), pytest.raises(ValidationError, match="closed"):
        admit(person)


@time_machine.travel(MONDAY)
def test_a_role_in_another_place_cannot_admit_here(place_a, place_b, cast):
    outsider = as_role(cast["outsider"], Role.COORDINATOR, place_b)
    person = child(place_a)
    with Unchanged(), pytest.raises(PermissionDenied):
        hospital.admit(person=person, data=stay_data(), by=outsider)


@time_machine.travel(MONDAY)
def test_a_stale_edit_of_a_stay_is_refused_and_the_other_change_kept(place_a):
    stay = admit(child(place_a), admitted_on=date(2026, 2, 20))
    hospital.update_admission(
        admission=stay, data={"legal_status": "s2"}, expected_version=1, by=SYSTEM
    )
    with Unchanged(), pytest.raises(StaleVersion):
        hospital.update_admission(
            admission=stay, data={"legal_status": "informal"}, expected_version=1, by=SYSTEM
        )
    stay.refresh_from_db()
    assert (stay.legal_status, stay.version) == ("s2", 2)
    with Unchanged(), pytest.raises(StaleVersion):
        hospital.discharge(
            admission=stay,
            discharged_on=date(2026, 3, 1),
            destination="family_home",
            expected_version=1,
            by=SYSTEM,
        )


# --- What falls due ------------------------------------------------------------------------


@time_machine.travel(MONDAY)
def test_an_oversight_visit_sets_the_next_one_and_must_fall_during_the_stay(place_a):
    stay = admit(child(place_a), admitted_on=date(2026, 2, 2))
    with Unchanged(), pytest.raises(ValidationError, match="during the stay"):
        hospital.record_visit(
            admission=stay,
            visited_on=date(2026, 2, 1),
            visited_by="Cass",
            findings="Fine",
            by=SYSTEM,
        )
    with Unchanged(), pytest.raises(ValidationError, match="Enter the findings"):
        hospital.record_visit(
            admission=stay, visited_on=date(2026, 2, 20), visited_by="Cass", findings="", by=SYSTEM
        )
    hospital.record_visit(
        admission=stay,
        visited_on=date(2026, 2, 20),
        visited_by="Cass Commissioner",
        findings="Ward calm; discharge plan not yet started",
        by=SYSTEM,
    )
    stay.refresh_from_db()
    assert stay.visit_due == date(2026, 4, 3)  # 6 weeks from the visit
    assert stay.version == 1  # a derived date: an open edit form is not made stale


@time_machine.travel(MONDAY)
def test_a_move_to_a_secure_unit_changes_an_adults_repeat_interval(place_a):
    adult = factories.make_person(place_a, date_of_birth=date(2004, 6, 1))
    stay = admit(adult, admitted_on=date(2026, 2, 2))
    # As reviews does when a post-admission C(E)TR is held during the stay
    hospital.note_cetr_held(person=adult, admission=stay, held_on=date(2026, 2, 20))
    stay.refresh_from_db()
    assert (stay.cetr_due, stay.cetr_due_kind) == (date(2026, 8, 20), "inpatient")
    hospital.update_admission(
        admission=stay, data={"ward_type": "secure"}, expected_version=stay.version, by=SYSTEM
    )
    stay.refresh_from_db()
    assert stay.cetr_due == date(2027, 2, 20)


@time_machine.travel(MONDAY)
def test_a_date_of_birth_cannot_move_after_the_first_admission(place_a):
    person = factories.make_person(place_a, date_of_birth=date(2012, 6, 1))
    admit(person, admitted_on=date(2026, 2, 2))
    person.refresh_from_db()
    with pytest.raises(ValidationError, match="before the person's first record"):
        people.update_person(
            person=person,
            data={"date_of_birth": date(2026, 2, 10)},
            expected_version=person.version,
            by=SYSTEM,
        )


def test_length_of_stay_counts_to_today_while_open(place_a):
    with time_machine.travel(MONDAY):
        stay = admit(child(place_a), admitted_on=date(2026, 2, 20))
    with time_machine.travel("2026-03-12 10:00:00+00:00"):
        assert stay.length_of_stay == 20
        ended = discharge(stay, on=date(2026, 3, 10))
        assert ended.length_of_stay == 18
    assert ended.length_of_stay == 18


def test_someone_never_admitted_here_can_be_rated_anything(place_a):
    person = factories.make_person(place_a, rating="B")  # added while in hospital elsewhere
    assert risk.rate(person=person, rating="G", rationale="Home", by=SYSTEM).rating == "G"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_concurrent_admissions_of_one_person_open_one_stay():
    import threading

    from django.db import connections

    from dsr.core.verify import verify
    from dsr.people.models import Person

    place = factories.make_place("Busy ward")
    person = factories.make_person(place)
    start = threading.Barrier(6)
    outcomes: list[str] = []

    def admitter(n: int) -> None:
        try:
            start.wait()
            hospital.admit(
                person=Person.objects.get(pk=person.pk),
                data=stay_data(hospital=f"Hospital {n}"),
                by=SYSTEM,
            )
            outcomes.append("admitted")
        except ValidationError as error:
            outcomes.append(" ".join(error.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=admitter, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("admitted") == 1
    assert all("already in hospital" in o for o in outcomes if o != "admitted")
    assert Admission.objects.filter(person=person).count() == 1
    person.refresh_from_db()
    assert person.current_rating == "B"
    assert verify().intact


@time_machine.travel(MONDAY)
def test_an_18th_birthday_during_the_stay_moves_its_reviews_and_visits_to_adult_timescales(
    place_a,
):
    # 18 on 10 March 2026, eight days into the stay
    person = factories.make_person(place_a, date_of_birth=date(2008, 3, 10))
    stay = admit(person, admitted_on=date(2026, 3, 2))
    assert stay.cetr_due == date(2026, 3, 30)  # 28 days, not 14
    assert stay.visit_due == date(2026, 4, 27)  # 8 weeks, not 6
    # A 17th birthday changes nothing
    younger = factories.make_person(place_a, date_of_birth=date(2009, 3, 10))
    assert admit(younger, admitted_on=date(2026, 3, 2)).cetr_due == date(2026, 3, 16)
