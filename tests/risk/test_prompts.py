"""Rules stay open-ended (issue 10, part 7): a prompt the current rating no longer calls for
is offered for closing with one click and a reason, and never closed silently."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.core.exceptions import ValidationError

from dsr.actions.models import Action
from dsr.core.access import Role
from dsr.risk import services as risk
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at

MONDAY = "2026-11-02 10:00:00+00:00"


def red_then_green(place):
    with time_machine.travel("2026-10-26 10:00:00+00:00"):
        person = factories.make_person(place, rating="R")
    with time_machine.travel(MONDAY):
        risk.rate(person=person, rating="G", rationale="Settled after support", by=SYSTEM)
    return person, Action.objects.get(person=person, rule_key="community_cetr")


def test_a_new_rating_never_closes_a_prompt_silently(place_a):
    person, task = red_then_green(place_a)
    task.refresh_from_db()
    assert task.status == "open"
    assert [a.rule_key for a in risk.prompts_no_longer_applying(person, [task])] == [
        "community_cetr"
    ]


@time_machine.travel(MONDAY)
def test_the_person_page_offers_the_stale_prompt_with_a_reason_ready(coordinator, place_a):
    person, task = red_then_green(place_a)
    page = coordinator.get(at(person, "register:person")).content.decode()
    assert "Prompts the current rating no longer calls for" in page
    assert f'name="action" value="{task.pk}"' in page
    assert 'value="Rated Green on 2 November 2026"' in page
    # Red's keyworker referral no longer applies either; Green's own prompt still does
    offered = set(re.findall(r'name="action" value="(\d+)"', page))
    keyworker = Action.objects.get(person=person, rule_key="keyworker_referral")
    green = Action.objects.get(person=person, rule_key="green_partners")
    assert offered == {str(task.pk), str(keyworker.pk)} and str(green.pk) not in offered


@time_machine.travel(MONDAY)
def test_one_click_closes_it_with_the_reason_kept_in_its_history(coordinator, place_a):
    person, task = red_then_green(place_a)
    response = coordinator.post(
        at(person, "risk:prompts"),
        {"action": task.pk, "version": task.version, "reason": "Rated Green on 2 November 2026"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == "cancelled"
    assert task.updates.get().note == (
        "No longer applies after the rating changed: Rated Green on 2 November 2026"
    )


@time_machine.travel(MONDAY)
def test_closing_needs_a_reason(coordinator, place_a):
    person, task = red_then_green(place_a)
    response = coordinator.post(
        at(person, "risk:prompts"), {"action": task.pk, "version": task.version, "reason": " "}
    )
    assert response.status_code == 200 and "Enter why the prompt no longer applies" in (
        response.content.decode()
    )
    task.refresh_from_db()
    assert task.status == "open"


@time_machine.travel(MONDAY)
def test_a_prompt_that_still_applies_cannot_be_closed_this_way(place_a):
    person = factories.make_person(place_a, rating="R")
    task = Action.objects.get(person=person, rule_key="community_cetr")
    with pytest.raises(ValidationError, match="still applies"):
        risk.close_prompt(action=task, reason="x", expected_version=task.version, by=SYSTEM)
    task.refresh_from_db()
    assert task.status == "open"


@time_machine.travel(MONDAY)
def test_admission_makes_the_red_task_a_prompt_to_close(client_for, place_a):
    from tests.hospital.factories import admit

    with time_machine.travel("2026-10-26 10:00:00+00:00"):
        person = factories.make_person(place_a, rating="R")
    admit(person)
    page = client_for(Role.COORDINATOR).get(at(person, "risk:prompts")).content.decode()
    assert "Hold a community C(E)TR (rated Red)" in page
    # A keyworker may not close a rating's prompts
    assert client_for(Role.KEYWORKER).get(at(person, "risk:prompts")).status_code == 404
