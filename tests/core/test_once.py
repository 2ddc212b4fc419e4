"""A form that creates something does it once, however often its page is sent (core/once.py,
ADR 0043). Found by a review: an event logged twice (a double click, a browser's resend)
was two events, and two A&E attendances in a month raised a false "review now"."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection  # noqa: F401 - the skipif condition names it

from dsr.actions.models import Action
from dsr.core import dates
from dsr.core.access import Role
from dsr.core.models import Submission
from dsr.core.once import SENT_ALREADY
from dsr.meetings.models import Attendee
from dsr.people.models import Circumstance
from dsr.referrals.models import Referral
from dsr.risk.models import Review, SignificantEvent
from tests import factories
from tests.helpers import at, error_messages, in_threads
from tests.risk.test_views import day_fields

TODAY = dates.today()


def _token(page) -> str:
    found = re.search(r'name="once" value="([^"]+)"', page.content.decode())
    assert found, "the page carries no one-time token"
    return found.group(1)


PAGES = {
    "an event": (
        lambda p: at(p["person"], "risk:event_new"),
        lambda p: {"kind": "ae", "description": "A&E overnight"} | day_fields("occurred_on", TODAY),
        lambda p: SignificantEvent.objects.filter(person=p["person"]),
    ),
    "an action": (
        lambda p: at(p["person"], "actions:new"),
        lambda p: (
            {"description": "Call GP", "owner_name": "Dr Patel"} | day_fields("due_on", TODAY)
        ),
        lambda p: Action.objects.filter(person=p["person"], description="Call GP"),
    ),
    "a review": (
        lambda p: at(p["person"], "risk:review"),
        lambda p: (
            {
                "participants": "Mum, keyworker",
                "summary": "Calmer at home",
                "rating": "A",
                "rationale": "Settling",
                "signals_seen": "",
            }
            | day_fields("held_on", TODAY)
        ),
        lambda p: Review.objects.filter(person=p["person"]),
    ),
    "a circumstance": (
        lambda p: at(p["person"], "people:circumstance_new"),
        lambda p: (
            {"area": "health", "standing": "well", "note": ""} | day_fields("recorded_on", TODAY)
        ),
        lambda p: Circumstance.objects.filter(person=p["person"]),
    ),
    "a referral": (
        lambda p: at(p["place"], "referrals:new"),
        lambda p: (
            {
                "referrer_name": "Dr Okafor",
                "given_name": "Robin",
                "family_name": "Achebe",
                "reason": "Excluded from school",
                "consent_obtained": "yes",
                "consent_from": "Mother",
            }
            | day_fields("received_on", TODAY)
            | day_fields("date_of_birth", dates.add_years(TODAY, -9))
        ),
        lambda p: Referral.objects.filter(family_name="Achebe"),
    ),
    "a recommendation": (
        lambda p: at(p["review"], "reviews:recommend"),
        lambda p: (
            {"description": "Refer to IST", "owner_name": "Sam Jones"} | day_fields("due_on", TODAY)
        ),
        lambda p: Action.objects.filter(description="Refer to IST"),
    ),
    "an attendee": (
        lambda p: at(p["meeting"], "meetings:attendee_new"),
        lambda p: {"name": "Pat Jones", "job_title": "Social worker"},
        lambda p: Attendee.objects.filter(name="Pat Jones"),
    ),
}


@pytest.fixture
def given(place_a):
    from dsr.meetings import services as meetings
    from tests.factories import SYSTEM
    from tests.hospital.factories import arrange, hold, request_cetr

    return {
        "place": place_a,
        "person": factories.make_person(place_a, rating="A"),
        "meeting": meetings.schedule_meeting(place=place_a, held_on=TODAY, by=SYSTEM),
        "review": hold(arrange(request_cetr(factories.make_person(place_a, rating="R")))),
    }


@pytest.mark.parametrize("what", PAGES)
def test_a_page_sent_twice_does_what_it_asks_once(client_for, given, what):
    url_of, body_of, made = PAGES[what]
    coordinator = client_for(Role.COORDINATOR)
    body = body_of(given) | {"once": _token(coordinator.get(url_of(given)))}
    first = coordinator.post(url_of(given), body)
    assert first.status_code == 302, error_messages(first)
    again = coordinator.post(url_of(given), body, follow=True)
    assert SENT_ALREADY in again.content.decode()
    assert made(given).count() == 1
    # A page drawn again is a new form: what it asks is done again.
    body |= {"once": _token(coordinator.get(url_of(given)))}
    assert coordinator.post(url_of(given), body).status_code == 302
    assert made(given).count() == 2


def test_a_refused_send_leaves_its_token_for_the_corrected_one(client_for, given):
    coordinator = client_for(Role.COORDINATOR)
    url = at(given["person"], "risk:event_new")
    token = _token(coordinator.get(url))
    refused = coordinator.post(url, {"kind": "ae", "description": "", "once": token})
    assert refused.status_code == 200 and _token(refused) == token  # the same page, again
    assert not Submission.objects.exists()
    body = {"kind": "ae", "description": "A&E", "once": token} | day_fields("occurred_on", TODAY)
    assert coordinator.post(url, body).status_code == 302
    assert SignificantEvent.objects.filter(person=given["person"]).count() == 1


@pytest.mark.parametrize("token", ["x" * 65, "short", "<script>", "a b c d e f g h i j"])
def test_a_token_the_page_did_not_write_is_refused(client_for, given, token):
    coordinator = client_for(Role.COORDINATOR)
    url = at(given["person"], "risk:event_new")
    body = {"kind": "ae", "description": "A&E", "once": token} | day_fields("occurred_on", TODAY)
    response = coordinator.post(url, body)
    assert "This form is out of date" in " ".join(error_messages(response))
    assert not SignificantEvent.objects.filter(person=given["person"]).exists()


def test_the_public_form_sent_twice_is_one_referral(client, place_a):
    from django.urls import reverse

    from tests.referrals.test_public_form import answers

    place_a.settings.parent_self_referral = True
    place_a.settings.save()
    url = reverse("public:refer", args=[place_a.pk])
    body = answers(once=_token(client.get(url)))
    assert client.post(url, body).status_code == 302
    again = client.post(url, body, follow=True)
    assert Referral.objects.count() == 1
    assert Referral.objects.get().reference in again.content.decode()  # the first's answer


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_two_sends_at_once_are_one_event():
    """Two sends of one page racing: the second waits at the token's index for the first to
    commit, then finds it taken."""
    from django.test import Client

    from dsr.core.door import Viewer  # noqa: F401 - the app is loaded
    from tests.conftest import signed_in_client

    place = factories.make_place("Racing sends")
    person = factories.make_person(place, rating="A")
    user = factories.make_user(place=place, role=Role.COORDINATOR)
    url = at(person, "risk:event_new")
    token = _token(signed_in_client(user).get(url))
    body = {"kind": "ae", "description": "A&E", "once": token} | day_fields("occurred_on", TODAY)
    clients: list[Client] = [signed_in_client(user) for _ in range(4)]
    outcome: list[int] = []
    start = threading.Barrier(len(clients))

    def send(n: int) -> None:
        start.wait()
        outcome.append(clients[n].post(url, body).status_code)

    assert in_threads(send, count=len(clients)) == []
    assert outcome == [302] * len(clients)
    assert SignificantEvent.objects.filter(person=person).count() == 1
