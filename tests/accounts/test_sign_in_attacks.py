"""Sign-in against an attacker (issue 8): one code signs in one session; the lockout keys on
the real client behind a trusted proxy; locked attempts do not stretch the lock; auditors see
their users' sign-in events."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, connections  # noqa: F401 - `connection` names the skipif engine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.core.proxy import client_address
from tests.factories import PASSWORD
from tests.helpers import at


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def password_step(client: Client, email: str, password: str = PASSWORD, **headers):
    return client.post(
        reverse("accounts:sign_in"), {"email": email, "password": password}, **headers
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_one_code_signs_in_one_session_however_many_race_it():
    from tests import factories

    place = factories.make_place("Racing sign-ins")
    user = factories.make_user(place=place, role=Role.COORDINATOR)
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    clients = [Client() for _ in range(6)]
    for client in clients:
        assert password_step(client, user.email).status_code == 302
    code = code_for(device)
    start = threading.Barrier(len(clients))
    results: list[int] = []

    def race(client: Client) -> None:
        try:
            start.wait()
            results.append(client.post(reverse("accounts:verify"), {"code": code}).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200] * 5 + [302]
    assert AuditEvent.objects.filter(action="signed_in", actor=user).count() == 1


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("10.0.0.1", "203.0.113.9", "203.0.113.9"),  # the proxy names the client
        ("10.0.0.1", "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # a forged hop ignored
        ("10.0.0.1", "203.0.113.9, 10.0.0.2", "203.0.113.9"),  # proxies in between skipped
        ("203.0.113.5", "1.2.3.4", "203.0.113.5"),  # not a proxy: its header is not believed
        ("10.0.0.1", "not-an-address", "10.0.0.1"),
        # Some proxies add the client's port: the address is still the client's
        ("10.0.0.1", "203.0.113.9:51234", "203.0.113.9"),
        ("10.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.1", "[2001:db8::1]", "2001:db8::1"),
        ("10.0.0.1", "2001:db8::1", "2001:db8::1"),
        ("10.0.0.1", "203.0.113.9:51234, 10.0.0.2:8080", "203.0.113.9"),
        ("10.0.0.1", "203.0.113.9:port", "10.0.0.1"),
        # An IPv4 address written as IPv6 (a dual-stack socket or proxy) is that IPv4
        # address, whether it is the proxy's, the client's or an untrusted peer's
        ("::ffff:10.0.0.1", "203.0.113.9", "203.0.113.9"),
        ("10.0.0.1", "::ffff:203.0.113.9", "203.0.113.9"),
        ("10.0.0.1", "[::ffff:203.0.113.9]:443", "203.0.113.9"),
        ("::ffff:10.0.0.1", "203.0.113.9, ::ffff:10.0.0.2", "203.0.113.9"),
        ("::ffff:203.0.113.5", "1.2.3.4", "203.0.113.5"),
    ],
)
def test_the_client_is_the_nearest_address_that_is_not_a_trusted_proxy(peer, forwarded, client):
    assert client_address(peer, forwarded, ["10.0.0.0/24"]) == client


def test_behind_a_trusted_proxy_one_client_cannot_lock_another_out(cast, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    user = cast[Role.COORDINATOR]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    attacker, owner = Client(), Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        password_step(
            attacker, user.email, "wrong-password-123", HTTP_X_FORWARDED_FOR="203.0.113.66"
        )
    assert (
        password_step(attacker, user.email, HTTP_X_FORWARDED_FOR="203.0.113.66").status_code == 429
    )
    # the user, from their own address behind the same proxy, still signs in
    response = password_step(owner, user.email, HTTP_X_FORWARDED_FOR="198.51.100.10")
    assert response.status_code == 302
    failed = AuditEvent.objects.filter(action__in=["sign_in_failed", "locked_out"]).first()
    assert failed.changes["ip"] == "203.0.113.66"


def test_an_ipv6_client_is_locked_out_across_its_64_not_one_address_at_a_time(cast, settings):
    """Each address of a /64 had five tries of its own: an attacker handed one (any home
    broadband line) had 2^64 times five. The lockout counts the /64, as the rate limit does."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    user = cast[Role.COORDINATOR]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    attacker = Client()
    for n in range(1, settings.AXES_FAILURE_LIMIT + 1):  # one failure from each address
        password_step(
            attacker, user.email, "wrong-password-123", HTTP_X_FORWARDED_FOR=f"2001:db8:1:1::{n}"
        )
    fresh = password_step(attacker, user.email, HTTP_X_FORWARDED_FOR="2001:db8:1:1::99")
    assert fresh.status_code == 429
    # another subscriber's network, and the same client written as IPv4, are not locked
    neighbour = password_step(Client(), user.email, HTTP_X_FORWARDED_FOR="2001:db8:1:2::1")
    assert neighbour.status_code == 302


@pytest.mark.parametrize(
    ("address", "counted"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:1:abcd::7", "2001:db8:1:1::"),
        ("2001:db8:1:1::", "2001:db8:1:1::"),
        ("", ""),
    ],
)
def test_the_lockout_counts_an_ipv4_address_or_an_ipv6_network(rf, address, counted):
    from dsr.accounts.lockout import client_from

    assert client_from(rf.get("/", REMOTE_ADDR=address)) == counted


def test_an_ipv4_client_written_as_ipv6_is_its_ipv4_address_to_the_lockout_and_the_trail(
    cast, settings
):
    # gunicorn bound to [::] hears IPv4 clients as ::ffff:a.b.c.d
    user = cast[Role.COORDINATOR]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    mapped = Client(REMOTE_ADDR="::ffff:203.0.113.66")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = password_step(mapped, user.email, "wrong-password-123")
    assert response.wsgi_request.META["REMOTE_ADDR"] == "203.0.113.66"
    # the same client, written either way, is locked out
    assert password_step(Client(REMOTE_ADDR="203.0.113.66"), user.email).status_code == 429
    refusals = AuditEvent.objects.filter(action__in=["sign_in_failed", "locked_out"])
    assert {event.changes["ip"] for event in refusals} == {"203.0.113.66"}


@pytest.mark.parametrize("trusted", ["10.0.0.1", "10.0.0.0/24", "::ffff:10.0.0.1"])
def test_a_trusted_proxy_heard_over_ipv6_is_still_trusted(db, settings, trusted):
    # The proxy's peer address is ::ffff:10.0.0.1 when the app server listens on [::]:
    # TRUSTED_PROXIES may name it either way
    settings.TRUSTED_PROXIES = [trusted]
    response = Client(REMOTE_ADDR="::ffff:10.0.0.1").get(
        reverse("accounts:sign_in"), HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert response.wsgi_request.META["REMOTE_ADDR"] == "203.0.113.9"


def test_forwarded_headers_from_anyone_else_are_not_believed(cast, client, settings):
    settings.TRUSTED_PROXIES = ["10.9.9.9"]  # not us
    response = client.get(
        reverse("accounts:sign_in"), HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR="1.2.3.4"
    )
    request = response.wsgi_request
    assert not request.is_secure()
    assert request.META["REMOTE_ADDR"] == "127.0.0.1"
    assert "HTTP_X_FORWARDED_FOR" not in request.META


def test_attempts_while_locked_out_do_not_stretch_the_lock(cast, settings):
    user = cast[Role.COORDINATOR]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            password_step(client, user.email, "wrong-password-123")
    with time_machine.travel(start + timedelta(minutes=50), tick=False):
        for _ in range(5):  # keeps trying while locked
            assert password_step(client, user.email, "wrong-password-123").status_code == 429
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert password_step(client, user.email).status_code == 302


def test_the_locked_out_page_says_how_to_get_help(cast, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = password_step(client, cast[Role.COORDINATOR].email, "wrong-password-123")
    body = response.content.decode()
    assert response.status_code == 429 and "system owner" in body
    assert "does not make the wait longer" in body


def test_auditors_see_their_users_sign_in_failures(cast, client_for, place_a, place_b):
    password_step(Client(), cast[Role.KEYWORKER].email, "wrong-password-123")
    password_step(Client(), cast["outsider"].email, "wrong-password-123")
    body = client_for(Role.AUDITOR).get(at(place_a, "audit_search"), {"action": "sign_in_failed"})
    text = body.content.decode()
    assert cast[Role.KEYWORKER].email in text
    assert cast["outsider"].email not in text  # place B's user: B's auditors'


def test_a_replaced_set_up_link_is_said_so_not_called_a_wrong_code(cast):
    """A review: a link replaced by a newer one while its page was open led on to the
    authenticator step, where every right code was "not correct", each counted and audited
    as a failed code."""
    from dsr.accounts import services
    from tests.accounts.test_sign_in import password_step as password_given
    from tests.factories import SYSTEM

    user = cast[Role.COORDINATOR]
    TOTPDevice.objects.filter(user=user).delete()
    client = Client()
    client.get(
        reverse("accounts:setup_link", args=[services.issue_enrolment_link(user=user, by=SYSTEM)])
    )
    services.issue_enrolment_link(user=user, by=SYSTEM)  # the admin sends a new one
    page = password_given(client, user.email)
    assert page.status_code == 200
    assert "a newer one has been sent since" in page.content.decode()
    assert (
        "a newer one has been sent since" in client.get(reverse("accounts:enrol")).content.decode()
    )
    assert not AuditEvent.objects.filter(changes__step="set-up code").exists()
