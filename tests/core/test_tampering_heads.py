"""What verify_audit says about a chain's head row, in words that fit what was done (found
by an attack on step 5: a middle delete was also called a cut tail, a deleted or emptied
head row was called events added after it)."""

from __future__ import annotations

from dsr.core.verify import (
    HEAD_EMPTIED,
    HEAD_GONE,
    MISSING,
    TAIL_CUT,
    verify,
)
from tests.core.test_tampering import delete_from_the_middle, tamper_sql, trail  # noqa: F401


def kinds(key: str) -> set[str]:
    return {p.kind for p in verify().problems or [] if p.chain == key}


def test_a_middle_delete_is_named_as_such_and_not_as_a_cut_tail(trail):  # noqa: F811
    delete_from_the_middle(trail)
    found = kinds(trail)
    assert MISSING in found and TAIL_CUT not in found


def test_a_deleted_head_row_is_named(trail):  # noqa: F811
    tamper_sql("DELETE FROM core_auditchain WHERE key = %s", [trail])
    problems = [p for p in verify().problems or [] if p.chain == trail]
    assert [p.kind for p in problems if p.event_id is None] == [HEAD_GONE]


def test_a_head_wound_back_to_empty_is_named(trail):  # noqa: F811
    tamper_sql(
        "UPDATE core_auditchain SET length = 0, head = %s, seal = '' WHERE key = %s",
        ["0" * 64, trail],
    )
    assert HEAD_EMPTIED in kinds(trail)
