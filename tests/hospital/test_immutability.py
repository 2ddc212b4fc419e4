"""Nothing is lost, and the database refuses what the services refuse (ADR 0012): stays,
visits, C(E)TRs and recommendations are never deleted; visits and the link of a
recommendation are never changed; their rules hold whoever writes the rows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import (  # noqa: F401 - `connection` names the skipif engine
    IntegrityError,
    connection,
    transaction,
)

from dsr.hospital import services as hospital
from dsr.hospital.models import Admission, OversightVisit
from dsr.reviews import services as reviews
from dsr.reviews.models import Cetr, Recommendation
from tests import factories
from tests.core.test_immutability import postgresql_only, refused, table
from tests.factories import SYSTEM
from tests.hospital.factories import admit, arrange, hold, request_cetr

IMMUTABLE = [OversightVisit, Recommendation]
UNDELETABLE = [Admission, Cetr]
MONDAY = "2026-03-02 10:00:00+00:00"


@pytest.fixture
def history(place_a):
    with time_machine.travel(MONDAY):
        person = factories.make_person(place_a, rating="R")
        review = hold(arrange(request_cetr(person)))
        reviews.add_recommendation(
            cetr=review,
            description="Short breaks",
            due_on=date(2026, 4, 1),
            owner_name="Sam",
            by=SYSTEM,
        )
        stay = admit(person)
        hospital.record_visit(
            admission=stay,
            visited_on=date(2026, 3, 2),
            visited_by="Cass",
            findings="Seen",
            by=SYSTEM,
        )
    for model in [*IMMUTABLE, *UNDELETABLE]:
        assert model.objects.exists(), model
    return person


@pytest.mark.parametrize("model", IMMUTABLE + UNDELETABLE, ids=lambda m: m.__name__)
def test_no_stay_visit_or_review_is_deleted(history, model):
    with pytest.raises(TypeError, match="never deleted"):
        model.objects.all().delete()
    with pytest.raises(TypeError, match="never deleted"):
        model.objects.first().delete()


@pytest.mark.parametrize("model", IMMUTABLE, ids=lambda m: m.__name__)
def test_a_visit_or_a_recommendations_link_is_never_changed(history, model):
    with pytest.raises(TypeError, match="never changed"):
        model.objects.all().update(id=0)


@postgresql_only
@pytest.mark.parametrize("model", IMMUTABLE, ids=lambda m: m.__name__)
def test_postgresql_refuses_update_delete_and_truncate_of_visits_and_links(history, model):
    pk = model.objects.values_list("pk", flat=True).first()
    column = next(f.column for f in model._meta.concrete_fields if not f.primary_key)
    refused(f'UPDATE {table(model)} SET "{column}" = "{column}" WHERE id = %s', pk)  # noqa: S608
    refused(f"DELETE FROM {table(model)} WHERE id = %s", pk)  # noqa: S608
    refused(f"TRUNCATE {table(model)} CASCADE")


@postgresql_only
@pytest.mark.parametrize("model", UNDELETABLE, ids=lambda m: m.__name__)
def test_postgresql_refuses_delete_and_truncate_of_stays_and_reviews(history, model):
    pk = model.objects.values_list("pk", flat=True).first()
    refused(f"DELETE FROM {table(model)} WHERE id = %s", pk)  # noqa: S608
    refused(f"TRUNCATE {table(model)} CASCADE")


def test_the_database_holds_the_rules_of_stays_and_reviews(history):
    person = history
    stay = Admission.objects.get(person=person)
    held = Cetr.objects.get(person=person, kind="community")
    bad_writes = [
        lambda: Admission.objects.filter(pk=stay.pk).update(ward_type="castle"),
        lambda: Admission.objects.filter(pk=stay.pk).update(discharged_on=stay.admitted_on),
        lambda: Admission.objects.filter(pk=stay.pk).update(
            discharged_on=stay.admitted_on - timedelta(days=1),
            discharge_destination="other",
            cetr_due=None,
            visit_due=None,
            cetr_due_kind="",
        ),
        lambda: Admission.objects.filter(pk=stay.pk).update(delayed_discharge=True),
        lambda: Admission.objects.create(
            person=person,
            place_id=person.place_id,
            hospital="Second",
            provider="P",
            provider_sector="nhs",
            ward_type="adult",
            legal_status="informal",
            admitted_on=stay.admitted_on,
            cetr_due=stay.cetr_due,
            cetr_due_kind="inpatient",
            visit_due=stay.visit_due,
        ),
        lambda: Cetr.objects.filter(pk=held.pk).update(consent_basis=""),
        lambda: Cetr.objects.filter(pk=held.pk).update(consent_on=held.held_on + timedelta(1)),
        lambda: Cetr.objects.filter(pk=held.pk).update(
            status="report_issued", report_issued_on=held.held_on - timedelta(days=1)
        ),
        lambda: Cetr.objects.filter(pk=held.pk).update(kind="inpatient"),
        lambda: Cetr.objects.filter(pk=held.pk).update(status="cancelled"),
        lambda: Cetr.objects.filter(pk=held.pk).update(review_type=""),
    ]
    for write in bad_writes:
        with pytest.raises(IntegrityError), transaction.atomic():
            write()


@postgresql_only
def test_postgresql_holds_a_stay_to_its_persons_place(history, place_b):
    stay = Admission.objects.get(person=history)
    with pytest.raises(IntegrityError), transaction.atomic():
        Admission.objects.filter(pk=stay.pk).update(place_id=place_b.pk)
