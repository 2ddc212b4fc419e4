"""The risk pages as a coordinator or keyworker uses them; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dsr.actions.models import Action
from dsr.core import dates
from dsr.core.access import Role
from dsr.risk.models import Rating, Review, SignificantEvent
from tests import factories
from tests.helpers import at, error_messages, register_count


def day_fields(prefix: str, day) -> dict[str, str]:
    return {
        f"{prefix}_day": str(day.day),
        f"{prefix}_month": str(day.month),
        f"{prefix}_year": str(day.year),
    }


def test_the_rating_history_names_the_factors_that_informed_each_rating_in_checklist_order(
    coordinator, person_a
):
    from dsr.risk import services
    from tests.factories import SYSTEM

    place = person_a.place
    first = services.add_risk_factor(place=place, label="Crisis team involved", by=SYSTEM)
    second = services.add_risk_factor(place=place, label="Placement at risk", by=SYSTEM)
    services.rate(
        person=person_a,
        rating="A",
        rationale="Two things at once",
        by=SYSTEM,
        factors=[second, first],
    )
    services.rate(person=person_a, rating="G", rationale="Settled again", by=SYSTEM)
    page = coordinator.get(at(person_a, "register:person")).content.decode()
    history = page[page.index('id="rating-history"') :]
    assert "Factors: Crisis team involved; Placement at risk" in history
    assert history.count("Factors:") == 1  # the later rating named none


def test_coordinator_changes_a_rating_and_sees_it_with_its_history(coordinator, person_a):
    response = coordinator.post(
        at(person_a, "risk:rate"),
        {
            "rating": "R",
            "rationale": "Placement broke down",
            "context": "other",
            **day_fields("decided_on", dates.today()),
        },
    )
    assert response.status_code == 302
    page = coordinator.get(at(person_a, "register:person")).content.decode()
    assert 'Risk rating: <strong class="nhsuk-tag nhsuk-tag--red">Red</strong>' in page
    assert "Placement broke down" in page and "Hold a community C(E)TR" in page
    assert page.index("Placement broke down") < page.index("Initial rating for the test")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"rationale": ""}, "Enter the reason for this rating"),
        ({"rating": "P"}, "Select a valid choice"),
        ({**day_fields("decided_on", dates.today() + timedelta(days=2))}, "today or in the past"),
        ({"factors": "999999"}, "Select a valid choice"),
        ({"factors": "99999999999999999999"}, "Select a valid choice"),
        ({"factors": "١"}, "Select a valid choice"),
    ],
)
def test_bad_rating_input_changes_nothing(coordinator, person_a, overrides, message):
    data = {
        "rating": "A",
        "rationale": "Why",
        "context": "other",
        **day_fields("decided_on", dates.today()),
        **overrides,
    }
    before = (Rating.objects.count(), Action.objects.count())
    response = coordinator.post(at(person_a, "risk:rate"), data)
    assert any(message in m for m in error_messages(response)), error_messages(response)
    assert (Rating.objects.count(), Action.objects.count()) == before


def test_factors_of_another_place_cannot_be_chosen(coordinator, person_a, place_b):
    other = place_b.risk_factors.first()
    response = coordinator.post(
        at(person_a, "risk:rate"),
        {
            "rating": "A",
            "rationale": "Why",
            "context": "other",
            "factors": other.pk,
            **day_fields("decided_on", dates.today()),
        },
    )
    assert error_messages(response)


def test_recording_a_review_with_an_agreed_action(coordinator, person_a):
    due = dates.today() + timedelta(days=10)
    response = coordinator.post(
        at(person_a, "risk:review"),
        {
            "participants": "Mum, school SENCO",
            "summary": "Calmer at home",
            "rating": "G",
            "rationale": "Stable",
            "action_description": "Check school timetable",
            "action_owner": "Sam Jones, SENCO",
            **day_fields("held_on", dates.today()),
            **day_fields("action_due", due),
        },
    )
    assert response.status_code == 302
    assert Review.objects.get(person=person_a).rating.rating == "G"
    assert Action.objects.get(person=person_a, source="review").due_on == due


def test_a_review_action_without_an_owner_is_refused(coordinator, person_a):
    response = coordinator.post(
        at(person_a, "risk:review"),
        {
            "participants": "Mum",
            "summary": "x",
            "rating": "G",
            "rationale": "y",
            "action_description": "Something",
            **day_fields("held_on", dates.today()),
        },
    )
    assert "Enter who owns the action" in " ".join(error_messages(response))
    assert not Review.objects.exists()


def test_keyworker_logs_an_event_that_flags_review_now_on_the_register(client_for, person_a):
    client = client_for(Role.KEYWORKER)
    response = client.post(
        at(person_a, "risk:event_new"),
        {
            "kind": "crisis_team",
            "description": "Crisis team out overnight",
            **day_fields("occurred_on", dates.today()),
        },
    )
    assert response.status_code == 302
    assert SignificantEvent.objects.get(person=person_a).recorded_by_label == "keyworker@a.example"
    coordinator = client_for(Role.COORDINATOR)
    flagged = coordinator.get(at(person_a.place, "register:list"), {"review": "now"})
    assert register_count(flagged) == 1 and "Review now" in flagged.content.decode()
    rising = coordinator.get(at(person_a.place, "register:rising_risk")).content.decode()
    assert "Crisis event while rated Green" in rising


def test_an_event_dated_before_birth_is_a_clear_error(coordinator, person_a):
    response = coordinator.post(
        at(person_a, "risk:event_new"),
        {"kind": "ae", **day_fields("occurred_on", person_a.date_of_birth - timedelta(days=3))},
    )
    assert "before the person's date of birth" in " ".join(error_messages(response))
    assert not SignificantEvent.objects.exists()


def test_register_filters_and_sorts_by_rating_and_review_due(coordinator, place_a):
    factories.make_person(place_a, rating="G", given_name="Greta")
    factories.make_person(place_a, rating="R", given_name="Ruth")
    factories.make_person(place_a, rating="A", given_name="Ann")
    assert register_count(coordinator.get(at(place_a, "register:list"), {"rating": "R"})) == 1
    by_rating = coordinator.get(at(place_a, "register:list"), {"sort": "rating"}).content.decode()
    assert by_rating.index("Ruth") < by_rating.index("Ann") < by_rating.index("Greta")
    by_review = coordinator.get(at(place_a, "register:list"), {"sort": "review"}).content.decode()
    assert by_review.index("Ruth") < by_review.index("Ann") < by_review.index("Greta")


def test_updating_an_action_keeps_a_dated_history(coordinator, person_a):
    action = Action.objects.filter(person=person_a).first()
    url = at(action, "actions:update")
    response = coordinator.post(
        url, {"status": "done", "note": "Partners named", "version": action.version}
    )
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == "done"
    page = coordinator.get(url).content.decode()
    assert "Partners named" in page
    stale = coordinator.post(url, {"status": "open", "note": "", "version": 1})
    assert "Someone else saved this while you were working" in stale.content.decode()
    action.refresh_from_db()
    assert action.status == "done"


def test_a_note_refused_for_a_colleagues_save_is_not_called_saved(coordinator, person_a):
    """A review: the stale page compared the status only. A colleague had added a note, the
    status as typed was the status saved, and the page said "This is saved already as you
    entered it", though the note typed was not saved."""
    from dsr.actions import services as actions
    from dsr.actions.models import ActionUpdate
    from tests.factories import SYSTEM

    action = Action.objects.filter(person=person_a).first()
    seen = action.version
    actions.update_action(
        action=action, status=action.status, note="Called mum", expected_version=seen, by=SYSTEM
    )
    url = at(action, "actions:update")
    refused = coordinator.post(
        url, {"status": action.status, "note": "School contacted", "version": seen}
    )
    assert not ActionUpdate.objects.filter(action=action, note="School contacted").exists()
    assert error_messages(refused) == [
        "Someone else saved this while you were working. Save again to keep what you entered here"
    ]


def test_adding_an_action_needs_an_owner(coordinator, person_a):
    before = Action.objects.count()
    response = coordinator.post(
        at(person_a, "actions:new"),
        {"description": "Call GP", **day_fields("due_on", dates.today())},
    )
    assert "Choose who owns this action" in " ".join(error_messages(response))
    assert Action.objects.count() == before
    response = coordinator.post(
        at(person_a, "actions:new"),
        {"description": "Call GP", "owner_name": "Dr Patel", **day_fields("due_on", dates.today())},
    )
    assert response.status_code == 302 and Action.objects.count() == before + 1


def _crisis_logged(client_for, person) -> None:
    """A keyworker logs a crisis while the person is rated Green: "review now"."""
    keyworker = client_for(Role.KEYWORKER)
    response = keyworker.post(
        at(person, "risk:event_new"),
        {"kind": "crisis_team", "description": "Crisis team out overnight"}
        | day_fields("occurred_on", dates.today()),
    )
    assert response.status_code == 302


def _signals_seen(page) -> str:
    import re

    return re.search(r'name="signals_seen" value="([^"]*)"', page.content.decode()).group(1)


@pytest.mark.parametrize("form", ["risk:rate", "risk:review"])
def test_a_rating_from_a_page_opened_before_a_crisis_does_not_clear_it_unseen(
    client_for, place_a, form
):
    """Found by a review: a coordinator opened the rating form while the person was calm, a
    keyworker logged a crisis, and the form, sent as filled in, cleared the flag nobody had
    read. The page carries the warnings it showed; one flagged since is shown first."""
    from dsr.risk.models import Signal

    person = factories.make_person(place_a, rating="G")
    coordinator = client_for(Role.COORDINATOR)
    opened = coordinator.get(at(person, form))
    _crisis_logged(client_for, person)
    body = (
        {
            "rating": "G",
            "rationale": "Settled at home",
            "context": "other",
            "participants": "Mum, keyworker",
            "summary": "Reviewed",
            "signals_seen": _signals_seen(opened),
        }
        | day_fields("decided_on", dates.today())
        | day_fields("held_on", dates.today())
    )
    refused = coordinator.post(at(person, form), body)
    assert refused.status_code == 200
    assert any(
        "Since this page was opened, a concern was flagged" in m for m in error_messages(refused)
    )
    assert "Crisis" in refused.content.decode()  # the warning, shown on the page
    person.refresh_from_db()
    assert person.review_now and Signal.objects.open().filter(person=person).exists()
    assert not Rating.objects.filter(person=person, rationale="Settled at home").exists()
    seen = _signals_seen(refused)
    assert seen == str(Signal.objects.open().get(person=person).pk)
    assert coordinator.post(at(person, form), body | {"signals_seen": seen}).status_code == 302
    person.refresh_from_db()
    assert not person.review_now and not Signal.objects.open().filter(person=person).exists()


def test_a_rating_dated_before_a_warning_was_flagged_leaves_it_open(client_for, place_a):
    """Found by a review: a decision taken last week cleared a crisis flagged today."""
    import time_machine

    from dsr.risk.models import Signal

    with time_machine.travel(dates.today() - timedelta(days=10), tick=False):
        person = factories.make_person(place_a, rating="G")
    _crisis_logged(client_for, person)
    coordinator = client_for(Role.COORDINATOR)
    seen = _signals_seen(coordinator.get(at(person, "risk:rate")))
    response = coordinator.post(
        at(person, "risk:rate"),
        {"rating": "G", "rationale": "Agreed last week", "context": "tracker_meeting"}
        | {"signals_seen": seen}
        | day_fields("decided_on", dates.today() - timedelta(days=5)),
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.current_rating == "G" and person.review_now
    assert Signal.objects.open().filter(person=person).count() == 1
