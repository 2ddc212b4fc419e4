"""Nothing is lost (ADR 0005, ADR 0012): care records are never deleted, dated records are
never changed, coded values hold only their codes — in code and in the database."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from dsr.actions import services as actions
from dsr.actions.models import Action, ActionUpdate
from dsr.core import dates
from dsr.core.models import AuditChain, AuditEvent, AuditShown
from dsr.people.models import NetworkMember, Person
from dsr.risk import services as risk
from dsr.risk.models import Rating, RatingFactor, Review, RiskFactor, Signal, SignificantEvent
from tests import factories
from tests.factories import SYSTEM

postgresql_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the triggers are PostgreSQL's"
)

IMMUTABLE = [Rating, RatingFactor, Review, SignificantEvent, ActionUpdate]
UNDELETABLE = [Person, NetworkMember, Action, Signal]


@pytest.fixture
def history(cast, place_a):
    """A person with a row in every care table."""
    from dsr.core.access import Role

    person = factories.make_person(place_a, rating="A")
    factor = RiskFactor.objects.filter(place=place_a).first()
    risk.record_review(
        person=person,
        held_on=dates.today(),
        participants="Family, school",
        summary="Plan agreed",
        rating="G",
        rationale="Settled",
        factors=[factor],
        by=SYSTEM,
    )
    for kind in ("ae", "police"):
        risk.log_event(
            person=person, kind=kind, occurred_on=dates.today(), description="", by=SYSTEM
        )
    factories.in_network(person, cast[Role.PARTNER])
    action = actions.open_action(
        person=person,
        description="Ring school",
        due_on=dates.today() + timedelta(days=1),
        source="other",
        owner_name="SENCO",
        by=SYSTEM,
    )
    actions.update_action(
        action=action, status="done", note="Rang", expected_version=action.version, by=SYSTEM
    )
    for model in [*IMMUTABLE, *UNDELETABLE]:
        assert model.objects.exists(), model
    return person


@pytest.mark.parametrize("model", IMMUTABLE + UNDELETABLE, ids=lambda m: m.__name__)
def test_no_queryset_deletes_care_records(history, model):
    with pytest.raises(TypeError, match="never deleted"):
        model.objects.all().delete()
    with pytest.raises(TypeError, match="never deleted"):
        model.objects.first().delete()
    assert model.objects.exists()


@pytest.mark.parametrize("model", IMMUTABLE, ids=lambda m: m.__name__)
def test_no_queryset_rewrites_a_dated_record(history, model):
    with pytest.raises(TypeError, match="never changed"):
        model.objects.all().update(id=0)
    record = model.objects.first()
    with pytest.raises(TypeError, match="never changed"):
        record.save()


def table(model) -> str:
    return model._meta.db_table


def refused(statement: str, *params) -> None:
    with (
        pytest.raises(DatabaseError, match="refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # The test's own transaction has deferred foreign-key checks pending, which would
        # stop a TRUNCATE before any trigger saw it: run them first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(statement, params)


@postgresql_only
@pytest.mark.parametrize("model", IMMUTABLE, ids=lambda m: m.__name__)
def test_postgresql_refuses_update_delete_and_truncate_of_dated_records(history, model):
    pk = model.objects.values_list("pk", flat=True).first()
    column = next(f.column for f in model._meta.concrete_fields if not f.primary_key)
    refused(f'UPDATE {table(model)} SET "{column}" = "{column}" WHERE id = %s', pk)  # noqa: S608
    refused(f"DELETE FROM {table(model)} WHERE id = %s", pk)  # noqa: S608
    refused(f"TRUNCATE {table(model)} CASCADE")


@postgresql_only
@pytest.mark.parametrize("model", UNDELETABLE, ids=lambda m: m.__name__)
def test_postgresql_refuses_delete_and_truncate_of_care_records(history, model):
    pk = model.objects.values_list("pk", flat=True).first()
    refused(f"DELETE FROM {table(model)} WHERE id = %s", pk)  # noqa: S608
    refused(f"TRUNCATE {table(model)} CASCADE")


@postgresql_only
def test_postgresql_refuses_update_delete_and_truncate_of_the_audit_trail(history):
    pk = AuditEvent.objects.values_list("pk", flat=True).first()
    refused("UPDATE core_auditevent SET actor_label = 'x' WHERE id = %s", pk)
    refused("DELETE FROM core_auditevent WHERE id = %s", pk)
    refused("TRUNCATE core_auditevent CASCADE")
    assert AuditShown.objects.model is AuditShown  # its own table is protected the same way
    refused("TRUNCATE core_auditshown")


@postgresql_only
def test_postgresql_refuses_deleting_truncating_or_winding_back_the_chain_heads(history):
    """The heads are what a cut tail is held to: a TRUNCATE of them, with the events', would
    leave a trail that starts afresh (verify_audit's "chain gone" is the second line)."""
    pk = AuditChain.objects.values_list("pk", flat=True).first()
    refused("DELETE FROM core_auditchain WHERE id = %s", pk)
    refused("TRUNCATE core_auditchain CASCADE")
    refused("UPDATE core_auditchain SET length = length - 1 WHERE id = %s", pk)


@postgresql_only
def test_a_signal_is_cleared_once_and_then_never_changes(history):
    cleared = Signal.objects.exclude(cleared_by=None).first() or Signal.objects.first()
    if cleared.cleared_by_id is None:
        risk.rate(person=history, rating="A", rationale="Reviewed", by=SYSTEM)
        cleared.refresh_from_db()
    refused("UPDATE risk_signal SET cleared_by_id = NULL WHERE id = %s", cleared.pk)
    open_signal = Signal.objects.filter(cleared_by=None)
    if open_signal.exists():
        refused(
            "UPDATE risk_signal SET explanation = 'rewritten' WHERE id = %s", open_signal.first().pk
        )


def test_coded_values_hold_only_their_codes_in_the_database(history):
    """A write that bypasses the services still cannot store a value outside the codes."""
    person = history
    bad_writes = [
        lambda: SignificantEvent.objects.create(
            person=person, kind="bogus", occurred_on=dates.today()
        ),
        lambda: Person.objects.filter(pk=person.pk).update(accommodation="castle"),
        lambda: Person.objects.filter(pk=person.pk).update(status="deleted"),
        lambda: Person.objects.filter(pk=person.pk).update(current_rating="P"),
        lambda: Person.objects.filter(pk=person.pk).update(nhs_number="٩٤٣٤٧٦٥٩١٩"),
        lambda: Person.objects.filter(pk=person.pk).update(status="closed"),  # no reason or date
        lambda: Action.objects.filter(person=person).update(status="maybe"),
        lambda: Action.objects.filter(person=person).update(
            owner_user=None, owner_name="", owner_organisation=None
        ),
        lambda: Person.objects.filter(pk=person.pk).update(
            review_due=person.rated_on - timedelta(days=1)
        ),
    ]
    for write in bad_writes:
        with pytest.raises(IntegrityError), transaction.atomic():
            write()


def test_no_application_code_can_switch_the_triggers_off():
    """django-pgtrigger's `ignore` is for the test database's reset only (tests/conftest.py)."""
    dsr = Path(__file__).resolve().parents[2] / "dsr"
    users = [
        str(path)
        for path in dsr.rglob("*.py")
        if re.search(
            r"pgtrigger\.(ignore|disable|uninstall)|session_replication_role", path.read_text()
        )
    ]
    assert users == []
