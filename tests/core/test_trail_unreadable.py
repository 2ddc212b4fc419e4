"""Details written by hand in the database that Python's JSON reader cannot read (nested a
few thousand deep, a number thousands of digits long) are named as a change to their event,
and stop neither verify_audit nor the pages that list events (found by an attack on step 5:
the application's own role could insert such a row, and verify_audit crashed on it)."""

from __future__ import annotations

import pytest
from django.db import connection

from dsr.core.access import Role
from dsr.core.models import UNREADABLE, AuditEvent
from dsr.core.verify import CHANGED, verify
from tests.core.test_tampering import nth, tamper_sql, trail  # noqa: F401
from tests.helpers import at

DEEP = "[" * 5000 + "]" * 5000
LONG = '{"n": ' + "9" * 5000 + "}"


@pytest.mark.parametrize("hostile", [DEEP, LONG], ids=["nested 5000 deep", "5000 digits"])
def test_details_that_cannot_be_read_are_named_as_changed_and_stop_nothing(
    trail,  # noqa: F811
    hostile,
    client_for,
    place_a,
    cast,
):
    if hostile == DEEP and connection.vendor == "sqlite":
        pytest.skip("SQLite's JSON_VALID check refuses JSON nested deeper than 1,000")
    # Given an event of place A's chain whose details were rewritten by hand
    event = nth(trail, 3)
    cast_to = "::jsonb" if connection.vendor == "postgresql" else ""
    tamper_sql(
        f"UPDATE core_auditevent SET changes = %s{cast_to} WHERE id = %s", [hostile, event.pk]
    )

    # Then it reads back as a note, not a crash
    assert AuditEvent.objects.get(pk=event.pk).changes[UNREADABLE] in {
        "RecursionError",
        "ValueError",
    }

    # And verify_audit names that event as changed, and only it
    report = verify()
    assert [(p.event_id, p.kind) for p in report.problems] == [(event.pk, CHANGED)]
    assert report.events_read >= 8

    # And the auditor's search still lists the trail
    page = client_for(Role.AUDITOR).get(at(place_a, "audit_search"))
    assert page.status_code == 200
