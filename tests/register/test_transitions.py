"""Transitions (issue 10, part 6): approaching 18 (adult services, the adult register) or 25
(the register ends), flagged on the register, the person page and My work within the
place's window, with a transition plan action."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from dsr.actions.models import Action
from dsr.core.access import Role
from dsr.people import transitions
from dsr.register.services import open_transition_plan
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at

MONDAY = "2026-11-02 10:00:00+00:00"
TODAY = date(2026, 11, 2)


class Policy:
    adult_age = 18
    register_max_age = 25
    transition_window_months = 6


@pytest.mark.parametrize(
    ("born", "flagged"),
    [
        (date(2008, 11, 2), ["transition_18"]),  # 18 today: flagged until the day itself
        (date(2008, 11, 1), []),  # turned 18 yesterday
        (date(2009, 5, 2), ["transition_18"]),  # 18 on the window's last day
        (date(2009, 5, 3), []),  # just outside it
        (date(2002, 1, 15), ["transition_25"]),
        (date(2012, 6, 1), []),
    ],
)
def test_the_window_runs_to_the_birthday_itself(born, flagged):
    assert [t.key for t in transitions.transitions_for(Policy, born, TODAY)] == flagged


def test_the_window_is_a_place_setting():
    class Short(Policy):
        transition_window_months = 2

    assert transitions.transitions_for(Short, date(2009, 3, 1), TODAY) == []
    assert transitions.transitions_for(Policy, date(2009, 3, 1), TODAY)[0].birthday == date(
        2027, 3, 1
    )


@time_machine.travel(MONDAY)
def test_someone_approaching_18_is_flagged_on_the_register_page_and_my_work(client_for, place_a):
    soon = factories.make_person(place_a, given_name="Tess", date_of_birth=date(2009, 2, 14))
    factories.make_person(place_a, given_name="Young", date_of_birth=date(2015, 2, 14))
    coordinator = client_for(Role.COORDINATOR)
    register = coordinator.get(at(place_a, "register:list")).content.decode()
    assert register.count("Turns 18 on 14 February 2027") == 1
    page = coordinator.get(at(soon, "register:person")).content.decode()
    assert "Turns 18</strong> on 14 February 2027" in page
    assert at(soon, "register:transition") in page
    work = coordinator.get(at(place_a, "work:my_work")).content.decode()
    assert "Turns 18 on 14 February 2027: plan the transition" in work


@time_machine.travel(MONDAY)
def test_opening_the_plan_makes_an_action_due_on_the_birthday(client_for, cast, place_a):
    soon = factories.make_person(place_a, date_of_birth=date(2002, 1, 15))
    keyworker = client_for(Role.KEYWORKER)
    response = keyworker.post(at(soon, "register:transition"), {"transition": "transition_25"})
    assert response.status_code == 302
    plan = Action.objects.get(person=soon, rule_key="transition_25")
    assert plan.due_on == date(2027, 1, 15) and plan.owner_user == cast[Role.KEYWORKER]
    assert "leaving the children's and young people's register" in plan.description
    # Once open it is the plan: no second one, and no longer "to plan" in My work
    with pytest.raises(ValidationError, match="already open"):
        open_transition_plan(person=soon, key="transition_25", by=SYSTEM)
    work = client_for(Role.COORDINATOR).get(at(place_a, "work:my_work")).content.decode()
    assert "plan the transition" not in work


@time_machine.travel(MONDAY)
def test_a_plan_is_refused_for_someone_not_approaching_the_birthday(place_a):
    person = factories.make_person(place_a, date_of_birth=date(2012, 6, 1))
    with pytest.raises(ValidationError, match="not approaching"):
        open_transition_plan(person=person, key="transition_18", by=SYSTEM)
    assert not Action.objects.filter(person=person, rule_key__startswith="transition").exists()
