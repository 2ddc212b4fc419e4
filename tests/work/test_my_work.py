"""My work lists what is each user's; reminders are sent once a day, never twice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from dsr.actions import services as actions
from dsr.core.access import Role
from dsr.risk import services as risk
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at

MONDAY = "2026-11-02 09:00:00+00:00"


@time_machine.travel(MONDAY)
def test_my_work_lists_reviews_actions_signals_and_cetrs(client_for, cast, place_a):
    coordinator = cast[Role.COORDINATOR]
    red = factories.make_person(place_a, rating="R", given_name="Rory")
    green = factories.make_person(place_a, rating="G", given_name="Gina")
    risk.log_event(
        person=green, kind="police", occurred_on=date(2026, 11, 1), description="", by=SYSTEM
    )
    actions.open_action(
        person=green,
        description="Call mum",
        due_on=date(2026, 10, 30),
        source="other",
        owner_user=coordinator,
        by=SYSTEM,
    )
    body = client_for(Role.COORDINATOR).get(at(place_a, "work:my_work")).content.decode()
    assert "Hold a community C(E)TR" in body and "Rory" in body
    assert "Review now: Crisis event while rated Green" in body
    assert "Call mum" in body and "Overdue" in body
    assert "My work (" in body
    del red


def test_a_keyworker_sees_their_own_actions_but_not_the_coordinators(client_for, cast, place_a):
    from dsr.core import dates

    person = factories.make_person(place_a)
    actions.open_action(
        person=person,
        description="Keyworker task",
        due_on=dates.today(),
        source="keywork",
        owner_user=cast[Role.KEYWORKER],
        by=SYSTEM,
    )
    actions.open_action(
        person=person,
        description="Coordinator task",
        due_on=dates.today(),
        source="other",
        owner_user=cast[Role.COORDINATOR],
        by=SYSTEM,
    )
    body = client_for(Role.KEYWORKER).get(at(place_a, "work:my_work")).content.decode()
    assert "Keyworker task" in body and "Coordinator task" not in body
    assert "Signals to look at" not in body


@pytest.mark.django_db
def test_reminders_are_sent_once_a_day_and_never_twice_for_the_same_item(cast, place_a):
    coordinator = cast[Role.COORDINATOR]
    with time_machine.travel("2026-11-02 07:00:00+00:00"):
        person = factories.make_person(place_a)
        action = actions.open_action(
            person=person,
            description="Ring school",
            due_on=date(2026, 11, 3),
            source="other",
            owner_user=coordinator,
            by=SYSTEM,
        )
        link = f"/places/{place_a.pk}/actions/{action.pk}/"
        call_command("send_reminders")
        assert not [m for m in mail.outbox if link in m.body]  # not due yet
    with time_machine.travel("2026-11-03 07:00:00+00:00"):
        call_command("send_reminders")
        call_command("send_reminders")
        mine = [m for m in mail.outbox if m.to == [coordinator.email]]
        assert len(mine) == 1 and f"Your actions (due today): http://127.0.0.1:8000{link}" in (
            mine[0].body
        )
        # and it names no one: not the person, not what the action says about them
        assert "Ring school" not in mine[0].body and person.family_name not in mine[0].body
    with time_machine.travel("2026-11-03 15:00:00+00:00"):
        call_command("send_reminders")
        assert len([m for m in mail.outbox if m.to == [coordinator.email]]) == 1
    with time_machine.travel("2026-11-04 07:00:00+00:00"):
        call_command("send_reminders")
        call_command("send_reminders")
        mine = [m for m in mail.outbox if m.to == [coordinator.email]]
        assert len(
            mine
        ) == 2 and f"(overdue since 3 November 2026): http://127.0.0.1:8000{link}" in (mine[1].body)
    with time_machine.travel("2026-11-05 07:00:00+00:00"):
        call_command("send_reminders")
        assert len([m for m in mail.outbox if m.to == [coordinator.email]]) == 2


def test_a_partner_sees_work_only_about_people_in_their_network(client_for, cast, place_a):
    from dsr.core import dates

    partner = cast[Role.PARTNER]
    hidden = factories.make_person(place_a, given_name="Hidden")
    shown = factories.make_person(place_a, given_name="Shown")
    factories.in_network(shown, partner)
    # A partner cannot be given an action about someone they cannot see...
    with pytest.raises(ValidationError, match="works on this person's record"):
        actions.open_action(
            person=hidden,
            description="Partner-owned task",
            due_on=dates.today(),
            source="other",
            owner_user=partner,
            by=SYSTEM,
        )
    # ...and sees their own about the people whose network includes them
    actions.open_action(
        person=shown,
        description="Share the CAMHS plan",
        due_on=dates.today(),
        source="other",
        owner_user=partner,
        by=SYSTEM,
    )
    body = client_for(Role.PARTNER).get(at(place_a, "work:my_work")).content.decode()
    assert "Share the CAMHS plan" in body and "Hidden" not in body


def test_open_actions_on_a_closed_record_stay_in_my_work(client_for, cast, place_a):
    from dsr.core import dates
    from dsr.people import services as people

    person = factories.make_person(place_a, given_name="Closing")
    actions.open_action(
        person=person,
        description="Send the closing letter",
        due_on=dates.today(),
        source="other",
        owner_user=cast[Role.KEYWORKER],
        by=SYSTEM,
    )
    people.close_record(
        person=person,
        reason="risk_reduced",
        closed_on=dates.today(),
        note="",
        expected_version=person.version,
        by=SYSTEM,
    )
    body = client_for(Role.KEYWORKER).get(at(place_a, "work:my_work")).content.decode()
    assert "Send the closing letter" in body


def test_the_navigation_counts_all_work_in_one_query_however_many_providers(
    client_for, place_a, settings
):
    from dsr.core.access import Permission
    from dsr.people.scoping import PEOPLE
    from dsr.work import registry
    from tests.helpers import count_queries

    # Counted on every page, not kept: the count itself is what is measured here.
    settings.WORK_COUNT_SECONDS = 0
    factories.make_person(place_a)
    client = client_for(Role.COORDINATOR)
    url = at(place_a, "register:list")
    client.get(url)
    before = count_queries(lambda: client.get(url))
    shown = _nav_count(client.get(url))
    extra = [
        registry.Provider(
            f"extra {n}",
            "Extra",
            Permission.VIEW_MY_WORK,
            lambda v: PEOPLE.list(v, purpose="x"),
            None,
        )
        for n in range(3)
    ]
    registry.PROVIDERS.extend(extra)
    try:
        assert count_queries(lambda: client.get(url)) == before
        assert _nav_count(client.get(url)) > shown  # the extra providers were counted
    finally:
        for provider in extra:
            registry.PROVIDERS.remove(provider)


def _nav_count(response) -> int:
    import re

    return int(re.search(r"My work \((\d+)\)", response.content.decode()).group(1))


def test_the_navigation_count_is_kept_a_minute_and_recounted_after_a_form(
    client_for, cast, place_a
):
    client = client_for(Role.COORDINATOR)
    person = factories.make_person(place_a, rating="G")
    before = _nav_count(client.get(at(place_a, "register:list")))
    # someone else's work shows within the minute, not at once
    actions.open_action(
        person=person,
        description="Ring school",
        due_on=date.today(),
        source="other",
        owner_user=cast[Role.COORDINATOR],
        by=SYSTEM,
    )
    assert _nav_count(client.get(at(place_a, "register:list"))) == before
    with time_machine.travel(timedelta(seconds=61)):
        later = _nav_count(client.get(at(place_a, "register:list")))
    assert later > before
    # a form the user sends recounts at once
    actions.open_action(
        person=person,
        description="Ring the GP",
        due_on=date.today(),
        source="other",
        owner_user=cast[Role.COORDINATOR],
        by=SYSTEM,
    )
    client.post(at(person, "risk:event_new"), {})  # any form, even one refused
    assert _nav_count(client.get(at(place_a, "register:list"))) == later + 1
