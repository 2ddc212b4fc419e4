"""Pages cost the same number of queries whatever the data size (DESIGN.md principle 8)."""

from __future__ import annotations

from dsr.consent import services as consent
from dsr.core import dates
from dsr.core.access import Role
from dsr.keywork import services as keywork
from dsr.people import services as people
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
    # Counted statements: the session with its user and authenticator, the memberships,
    # the count and the page, and the door's audit of who was shown (on PostgreSQL: begin,
    # lock the chain's head, one statement for the event, its shown rows and the head,
    # commit; SQLite writes them one by one). The navigation's "My work" count is kept.
    assert small == large <= 10 + lock()
    assert searched == large  # a search is audited by the same one event as any page


def _add_to_the_record(person, place, n: int) -> None:
    """`n` more of everything the person page shows."""
    for _ in range(n):
        risk.log_event(
            person=person, kind="other", occurred_on=person.rated_on, description="", by=SYSTEM
        )
        factories.in_network(person, factories.make_user(place=place, role=Role.PARTNER))
        people.record_circumstance(
            person=person, area="health", standing="some", note="", by=SYSTEM
        )
        consent.record_consent(
            person=person,
            given_by="parental",
            basis="parental",
            consenter="Mum",
            given_on=dates.today(),
            evidence="signed_form",
            by=SYSTEM,
        )
        keywork.log_contact(
            person=person,
            contacted_on=dates.today(),
            kind="phone",
            with_whom="Mum",
            summary="Weekly call",
            by=SYSTEM,
        )


def test_person_page_queries_are_bounded(coordinator, place_a):
    person = factories.make_person(place_a)
    _add_to_the_record(person, place_a, 1)
    first = _queries(coordinator, at(person, "register:person"))
    _add_to_the_record(person, place_a, 5)
    # One audited read of the person, then one or two queries per panel: whatever they hold
    # (the panels: rating with its prompts, safety, consent, keyworker, actions, hospital,
    # C(E)TRs, identity, circumstances, care network, rating history, events; and referrals
    # for the team that takes them in)
    assert _queries(coordinator, at(person, "register:person")) == first <= 24 + lock()


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
    # one query per list (signals, reviews, C(E)TRs, actions, records to close, consent,
    # contacts, referrals, stays' C(E)TRs and visits, reports, recommendations,
    # transitions), and one audit event for everyone the page showed
    assert _queries(coordinator, url) == first <= 24 + lock()
