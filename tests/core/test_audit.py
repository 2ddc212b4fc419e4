"""The audit trail: append-only, hash-chained, written with the change."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from dsr.core import audit
from dsr.core.models import AuditAction, AuditEvent
from dsr.people import services
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at


def tamper(event_id: int, **values) -> None:
    """Change a stored row behind the application's back, as an attacker with SQL might."""
    sets = ", ".join(f"{column} = %s" for column in values)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # bypass the trigger
        cursor.execute(
            f"UPDATE core_auditevent SET {sets} WHERE id = %s", [*values.values(), event_id]
        )  # noqa: S608
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_the_chain_of_real_events_verifies(place_a):
    factories.make_person(place_a)
    checked, problem = audit.verify_chain()
    assert problem is None
    assert checked == AuditEvent.objects.count() >= 2


def test_a_tampered_row_is_detected_and_named(place_a):
    person = factories.make_person(place_a)
    victim = AuditEvent.objects.get(person_id=person.pk, action="created", object_type="Person")
    tamper(victim.pk, actor_label="someone else")
    _, problem = audit.verify_chain()
    assert problem is not None and problem.event_id == victim.pk
    with pytest.raises(CommandError, match=f"event {victim.pk}"):
        call_command("verify_audit")


def test_a_removed_row_breaks_the_chain_at_the_next_event(place_a):
    factories.make_person(place_a)
    factories.make_person(place_a)
    first, second = AuditEvent.objects.order_by("id")[1:3]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [first.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    _, problem = audit.verify_chain()
    assert problem is not None and problem.event_id == second.pk


def test_verify_audit_command_succeeds_on_an_intact_chain(place_a, capsys):
    call_command("verify_audit")
    assert "intact" in capsys.readouterr().out


def test_the_model_refuses_to_update_or_delete_an_event(place_a):
    event = AuditEvent.objects.first()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete_of_audit_rows(place_a):
    event_id = AuditEvent.objects.values_list("id", flat=True).first()
    for statement in (
        "UPDATE core_auditevent SET actor_label = 'x' WHERE id = %s",
        "DELETE FROM core_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="refused"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [event_id])


def test_an_event_needs_an_actor():
    with pytest.raises(ValueError, match="actor"):
        audit.record(context=audit.Context(actor=None, place_id=None), action=AuditAction.VIEWED)


def test_the_audit_event_rolls_back_with_a_failed_change(place_a):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.make_person(place_a)
        raise RuntimeError("the business operation fails after writing")
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_the_chain_stays_linear_under_concurrent_writers():
    place = factories.make_place("Busy place")
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                with transaction.atomic():
                    audit.record(
                        context=SYSTEM,
                        action=AuditAction.VIEWED,
                        object_type="Test",
                        object_id=f"{n}-{i}",
                    )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEvent.objects.filter(object_type="Test").count() == 90
    checked, problem = audit.verify_chain()
    assert problem is None and checked == AuditEvent.objects.count()
    del place


def test_viewing_a_person_is_audited_with_who_and_where(coordinator, cast, person_a):

    from dsr.core.access import Role

    coordinator.get(at(person_a, "register:person"))
    event = AuditEvent.objects.filter(action="viewed", person_id=person_a.pk).last()
    assert event.actor == cast[Role.COORDINATOR]
    assert event.place_id == person_a.place_id
    assert event.request_id


def test_changes_record_field_names_with_old_and_new_values(place_a):
    person = factories.make_person(place_a, postcode="ZZ99 1AA")
    services.update_person(
        person=person, data={"postcode": "zz99 2bb"}, expected_version=person.version, by=SYSTEM
    )
    event = AuditEvent.objects.filter(action="changed", person_id=person.pk).get()
    assert event.changes == {"postcode": ["ZZ99 1AA", "ZZ99 2BB"], "version": [1, 2]}


def test_an_altered_list_of_people_shown_is_detected(coordinator, place_a):
    from dsr.core.models import AuditShown
    from tests.helpers import at

    person = factories.make_person(place_a)
    coordinator.get(at(place_a, "register:list"))
    assert audit.verify_chain()[1] is None
    listed = AuditEvent.objects.filter(action="listed").get()
    # an attacker with SQL removes the row that ties the person to the list they were on
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "DELETE FROM core_auditshown WHERE event_id = %s AND person_id = %s",
            [listed.pk, person.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    _, problem = audit.verify_chain()
    assert problem is not None and problem.event_id == listed.pk
    assert "people shown" in problem.problem
    assert AuditShown.objects.filter(person_id=person.pk).count() == 0
