"""A page's read is audited outside any transaction, in one statement (ADR 0033).

The event is all a read writes, so on PostgreSQL it goes in as one statement that moves its
chain's head only if the head is still where it was read: no BEGIN, no lock held across a
round trip, no COMMIT. These tests run outside the test's own transaction, as a page does.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from dsr.core import audit, chain
from dsr.core.models import AuditChain, AuditEvent
from dsr.core.verify import FOUND_UNSEALED, verify
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import in_threads

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL's own path"),
]


def read(place_id: int, n: int = 0) -> AuditEvent:
    return audit.record_read(
        context=SYSTEM, page=f"test {n}", obj=None, person_id=None, place_id=place_id
    )


def test_a_read_is_one_statement_once_its_lane_is_known(settings):
    settings.AUDIT_CHAIN_LANES = 1
    place = factories.make_place("Quiet place")
    read(place.pk)  # the lane's head, read once
    with CaptureQueriesContext(connection) as ran:
        event = read(place.pk, 1)
    assert len(ran.captured_queries) == 1
    assert ran.captured_queries[0]["sql"].startswith("WITH moved AS (UPDATE")
    head = AuditChain.objects.get(key=chain.chain_for(place.pk))
    assert (head.length, head.head) == (event.seq, event.hash)
    assert verify().intact


def test_a_head_moved_by_another_connection_is_read_again_not_overwritten(settings):
    settings.AUDIT_CHAIN_LANES = 1
    place = factories.make_place("Two servers' place")
    first = read(place.pk)  # this connection now expects the head at `first`

    assert in_threads(lambda _: read(place.pk, 2)) == []
    third = read(place.pk, 3)
    assert third.seq == first.seq + 2
    assert AuditEvent.objects.get(chain=third.chain, seq=first.seq + 1).changes["page"] == "test 2"
    assert verify().intact


def test_many_connections_reading_in_one_lane_keep_it_linear(settings):
    settings.AUDIT_CHAIN_LANES = 1  # every writer on one head: the tries collide
    place = factories.make_place("Busy lane")

    def writer(n: int) -> None:
        for i in range(25):
            read(place.pk, n * 100 + i)

    assert in_threads(writer, 6) == []
    events = AuditEvent.objects.filter(chain=chain.chain_for(place.pk), action="viewed")
    assert sorted(e.changes["page"] for e in events) == sorted(
        f"test {n * 100 + i}" for n in range(6) for i in range(25)
    )
    assert verify().intact


def cut_back_to(key: str, kept: AuditEvent) -> None:
    """Without the key: delete what follows `kept` and put the head's length and last hash
    back to it, past the triggers, as a superuser could. The seal cannot be made: it is left."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("DELETE FROM core_auditevent WHERE chain = %s AND seq > %s", [key, kept.seq])
        cursor.execute(
            "UPDATE core_auditchain SET length = %s, head = %s WHERE key = %s",
            [kept.seq, kept.hash, key],
        )
        cursor.execute("SET session_replication_role = DEFAULT")


def test_a_read_after_the_tail_was_cut_records_the_head_found_unsealed(settings, tmp_path):
    settings.AUDIT_CHAIN_LANES = 1
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "none.jsonl")
    place = factories.make_place("Cut place")
    for n in range(4):
        read(place.pk, n)
    key = chain.chain_for(place.pk)
    head = AuditChain.objects.get(key=key)
    kept = AuditEvent.objects.get(chain=key, seq=head.length - 2)
    cut_back_to(key, kept)
    read(place.pk, 9)  # this connection expected the head it wrote: it reads it again
    found = AuditEvent.objects.get(chain=key, seq=kept.seq + 1)
    assert found.action == "head_unsealed"
    assert [p.kind for p in verify().problems or []] == [FOUND_UNSEALED]


def changed(place_id: int, n: int) -> None:
    with transaction.atomic():  # a service's change: its event through the locked head
        audit.record(
            context=SYSTEM,
            action="changed",
            object_type="Person",
            object_id=n,
            place_id=place_id,
            changes={"field": f"edit {n}"},
        )


@pytest.mark.parametrize("then", ["changes on this connection", "changes on another"])
def test_a_cut_back_to_the_very_head_a_connection_last_wrote_is_recorded_not_sealed_over(
    settings, tmp_path, then
):
    """The connection's own copy of the head is sealed; the row put back to its length and
    last hash is not. The write must miss on the seal and read the head again (review)."""
    settings.AUDIT_CHAIN_LANES = 1
    settings.AUDIT_CHECKPOINT_FILE = str(tmp_path / "none.jsonl")
    place = factories.make_place("Edited place")
    key = chain.chain_for(place.pk)
    for n in range(3):
        last_read = read(place.pk, n)  # this connection keeps the head at its last read

    def edits(_: int = 0) -> None:
        for n in range(2):
            changed(place.pk, n)

    if then == "changes on another":
        assert in_threads(edits) == []
    else:
        edits()
    assert AuditChain.objects.get(key=key).length == last_read.seq + 2
    cut_back_to(key, last_read)  # the two edits' events are gone
    read(place.pk, 9)
    found = AuditEvent.objects.get(chain=key, seq=last_read.seq + 1)
    assert (found.action, found.changes["length"]) == ("head_unsealed", last_read.seq)
    assert [p.kind for p in verify().problems or []] == [FOUND_UNSEALED]
