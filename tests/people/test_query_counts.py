"""Pages cost the same number of queries whatever the data size (DESIGN.md principle 8)."""

from __future__ import annotations

from dsr.core.access import Role
from dsr.risk import services as risk
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at, count_queries


def lock() -> int:
    """An audit write locks its chain's head row on both engines (ADR 0014): no extra
    statement on either any more."""
    return 0


def _queries(client, url, params=None) -> int:
    client.get(url, params or {})  # warm: the session's idle expiry renews once a minute
    return count_queries(lambda: client.get(url, params or {}))


def test_register_list_queries_are_bounded_and_do_not_grow_with_people(coordinator, place_a):
    factories.make_person(place_a)
    small = _queries(coordinator, at(place_a, "register:list"))
    for _ in range(60):
        factories.make_person(place_a)
    large = _queries(coordinator, at(place_a, "register:list"))
    searched = _queries(coordinator, at(place_a, "register:list"), {"q": "Testperson"})
    # Counted statements include the navigation's "My work" count (one query) and
    # the door's audit of who was shown: savepoint, lock the chain's head, event, shown
    # rows, head, release.
    assert small == large <= 13 + lock()
    assert searched == large  # a search is audited by the same one event as any page


def test_person_page_queries_are_bounded(coordinator, place_a):
    person = factories.make_person(place_a)
    first = _queries(coordinator, at(person, "register:person"))
    for day in range(5):
        risk.log_event(
            person=person, kind="other", occurred_on=person.rated_on, description="", by=SYSTEM
        )
        factories.in_network(person, factories.make_user(place=place_a, role=Role.PARTNER))
    # One audited read of the person, then one or two queries per panel: whatever they hold
    # (hospital, C(E)TRs and prompts that no longer apply: tests/hospital/test_query_counts.py)
    assert _queries(coordinator, at(person, "register:person")) == first <= 21 + lock()


def test_who_has_accessed_page_queries_do_not_grow_with_events(coordinator, place_a):
    person = factories.make_person(place_a)
    url = at(person, "people:access")
    first = _queries(coordinator, url)
    for _ in range(30):
        coordinator.get(at(person, "register:person"))
    assert _queries(coordinator, url) == first <= 13 + lock()


def test_audit_search_queries_are_bounded(client_for, place_a):
    from dsr.core.access import Role

    client = client_for(Role.AUDITOR)
    factories.make_person(place_a)
    first = _queries(client, at(place_a, "audit_search"))
    for _ in range(20):
        factories.make_person(place_a)
    assert _queries(client, at(place_a, "audit_search")) == first <= 11 + lock()


def test_my_work_queries_do_not_grow_with_work(coordinator, cast, place_a):
    from dsr.risk import services as risk
    from tests.factories import SYSTEM

    url = at(place_a, "work:my_work")
    factories.make_person(place_a, rating="R")
    first = _queries(coordinator, url)
    for _ in range(25):
        person = factories.make_person(place_a, rating="R")
        risk.log_event(
            person=person, kind="ae", occurred_on=person.rated_on, description="", by=SYSTEM
        )
    # One query per provider (five more for stays and C(E)TRs: tests/hospital/)
    assert _queries(coordinator, url) == first <= 20 + lock()
