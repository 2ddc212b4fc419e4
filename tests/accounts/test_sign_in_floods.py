"""A flood of sign-in attempts is cut off per client address, adding a bounded number of
events to the system audit chain; refusals that concern a known account reach its place's
auditors (ADR 0031)."""

from __future__ import annotations

import time
import zlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.accounts import services
from dsr.accounts.models import EnrolmentLink
from dsr.core import audit, chain
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.places import team
from tests import factories
from tests.accounts.test_oidc import MFA, idp, invited, nhs_sign_in, open_link  # noqa: F401
from tests.conftest import signed_in_client
from tests.factories import PASSWORD
from tests.helpers import at

ATTACKER, COLLEAGUE = "203.0.113.66", "198.51.100.10"


def limit_of(rate: str) -> int:
    return int(rate.split("/")[0])


def window_start(key: str, seconds: int) -> datetime:
    """The next moment a django-ratelimit window of `seconds` opens for `key` (an IPv4
    address, or the email of a per-account limit), so that a test's requests all fall in
    one window (its boundaries are offset by the key, as django-ratelimit writes it)."""
    now = int(time.time())
    start = now - now % seconds + zlib.crc32(key.encode()) % seconds
    if start <= now:
        start += seconds
    return datetime.fromtimestamp(start + 1, tz=UTC)


def system_events() -> int:
    return AuditEvent.objects.filter(chain=chain.SYSTEM).count()


def rate_limit_events(group: str):
    return AuditEvent.objects.filter(chain=chain.SYSTEM, changes__step=f"rate limit: {group}")


def password_step(client: Client, email: str, password: str = PASSWORD):
    return client.post(reverse("accounts:sign_in"), {"email": email, "password": password})


def test_a_flood_of_unusable_set_up_links_is_cut_off_and_adds_a_bounded_number_of_events(
    place_a, settings
):
    limit = limit_of(settings.SET_UP_LINK_FAILURES_RATE)  # the default, 20 an hour
    flood, statuses = Client(REMOTE_ADDR=ATTACKER), []
    real = invited(place_a)
    before = system_events()
    with time_machine.travel(window_start(ATTACKER, 3600), tick=True):
        for n in range(200):
            statuses.append(flood.get(reverse("accounts:setup_link", args=[f"guess-{n}"])))
        # Then the address is refused, even a real link, and told how to get help
        assert [r.status_code for r in statuses] == [404] * limit + [429] * (200 - limit)
        page = statuses[-1].content.decode()
        assert "Too many attempts" in page and "system owner" in page
        assert flood.get(reverse("accounts:setup_link", args=[real.token])).status_code == 429
        # while someone at another address opens their own link
        colleague = Client(REMOTE_ADDR=COLLEAGUE)
        assert colleague.get(reverse("accounts:setup_link", args=[real.token])).status_code == 200
    # 200 requests: the refusals up to the limit, and the first 429 only
    assert system_events() - before == limit + 1
    assert rate_limit_events("set-up link failures").get().changes["ip"] == ATTACKER


def test_wrong_passwords_for_ever_new_emails_from_one_address_are_cut_off(cast, settings):
    settings.SIGN_IN_FAILURES_RATE = "30/10m"
    user = cast[Role.COORDINATOR]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    attacker, owner = Client(REMOTE_ADDR=ATTACKER), Client(REMOTE_ADDR=COLLEAGUE)
    before = system_events()
    with time_machine.travel(window_start(ATTACKER, 600), tick=True):
        # a new email each time: django-axes (email + address) never locks any of them
        answers = [
            password_step(attacker, f"guess{n}@a.example", "wrong-1234").status_code
            for n in range(60)
        ]
        assert answers == [200] * 30 + [429] * 30
        # the address is not even checked any more: the right password is refused too
        assert password_step(attacker, user.email).status_code == 429
        # meanwhile the user, from another address, signs in
        response = password_step(owner, user.email)
        assert response.status_code == 302 and response["Location"] == reverse("accounts:verify")
        device = TOTPDevice.objects.get(user=user)
        verified = owner.post(reverse("accounts:verify"), {"code": f"{totp(device.bin_key):06d}"})
        assert verified.status_code == 302 and verified["Location"] == "/"
    assert system_events() - before == 30 + 1 + 1  # refusals, the first 429, one sign-in
    assert rate_limit_events("sign-in failures").count() == 1


def test_sign_ins_that_succeed_use_none_of_a_shared_address_allowance(cast, settings):
    # A trust's staff behind one address: only refusals count against it
    settings.SIGN_IN_FAILURES_RATE = "5/10m"
    user = cast[Role.COORDINATOR]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    with time_machine.travel(window_start(ATTACKER, 600), tick=True):
        for _ in range(20):
            assert password_step(Client(REMOTE_ADDR=ATTACKER), user.email).status_code == 302
        shared = Client(REMOTE_ADDR=ATTACKER)
        assert password_step(shared, cast[Role.KEYWORKER].email, "typo-1234").status_code == 200


@pytest.mark.parametrize(
    ("proxies", "attacker", "colleague"),
    [
        # gunicorn bound to [::]: an IPv4 peer is ::ffff:a.b.c.d
        ([], {"REMOTE_ADDR": f"::ffff:{ATTACKER}"}, {"REMOTE_ADDR": f"::ffff:{COLLEAGUE}"}),
        # a dual-stack proxy writes the client that way
        (
            ["10.0.0.1"],
            {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": f"::ffff:{ATTACKER}"},
            {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": f"::ffff:{COLLEAGUE}"},
        ),
        # and the proxy itself is heard as ::ffff:10.0.0.1
        (
            ["10.0.0.1"],
            {"REMOTE_ADDR": "::ffff:10.0.0.1", "HTTP_X_FORWARDED_FOR": ATTACKER},
            {"REMOTE_ADDR": "::ffff:10.0.0.1", "HTTP_X_FORWARDED_FOR": COLLEAGUE},
        ),
    ],
)
def test_ipv4_clients_written_as_ipv6_each_have_an_allowance_of_their_own(
    cast, settings, proxies, attacker, colleague
):
    # Counted as IPv6, every IPv4 client was in the one network ::/64: one client's
    # wrong passwords shut every IPv4 client out
    settings.SIGN_IN_FAILURES_RATE = "30/10m"
    settings.TRUSTED_PROXIES = proxies
    user = cast[Role.COORDINATOR]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    flood, owner = Client(**attacker), Client(**colleague)
    with time_machine.travel(window_start(ATTACKER, 600), tick=True):
        for n in range(30):
            password_step(flood, f"guess{n}@a.example", "wrong-1234")
        assert password_step(flood, user.email).status_code == 429
        response = password_step(owner, user.email)
        assert response.status_code == 302 and response["Location"] == reverse("accounts:verify")
    assert rate_limit_events("sign-in failures").get().changes["ip"] == ATTACKER


def test_wrong_codes_count_against_the_address_too(cast, settings):
    settings.SIGN_IN_FAILURES_RATE = "5/10m"
    user = cast[Role.COORDINATOR]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client(REMOTE_ADDR=ATTACKER)
    with time_machine.travel(window_start(ATTACKER, 600), tick=True):
        assert password_step(client, user.email).status_code == 302
        answers = [
            client.post(reverse("accounts:verify"), {"code": "000000"}).status_code
            for _ in range(8)
        ]
    assert answers == [200] * 5 + [429] * 3
    assert AuditEvent.objects.filter(action="sign_in_failed", actor_label=user.email).count() == 5


@pytest.mark.parametrize("page", ["accounts:verify", "accounts:enrol"])
def test_a_code_page_turned_away_for_too_many_attempts_is_audited_as_the_pending_users(
    cast, settings, client_for, place_a, page
):
    settings.SIGN_IN_FAILURES_RATE = "3/10m"
    user = cast[Role.KEYWORKER]
    client = Client(REMOTE_ADDR=ATTACKER)
    if page == "accounts:verify":
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    else:  # setting up an authenticator through a set-up link
        token = services.issue_enrolment_link(user=user, by=factories.SYSTEM)
        client.get(reverse("accounts:setup_link", args=[token]))
    with time_machine.travel(window_start(ATTACKER, 600), tick=True):
        assert password_step(client, user.email)["Location"] == reverse(page)
        answers = [client.post(reverse(page), {"code": "000000"}).status_code for _ in range(5)]
    assert answers == [200] * 3 + [429] * 2
    # the session's user is known: the refusal is theirs, and their place's auditors see it
    refusal = rate_limit_events("sign-in failures").get()
    assert (refusal.actor, refusal.actor_label) == (user, user.email)
    assert refusal.changes["ip"] == ATTACKER
    page = client_for(Role.AUDITOR).get(at(place_a, "audit_search"), {"action": "locked_out"})
    assert "rate limit: sign-in failures" in page.content.decode()


def test_a_flood_of_refused_nhs_sign_ins_is_cut_off(idp, db, settings):  # noqa: F811
    settings.SIGN_IN_FAILURES_RATE = "4/10m"
    idp.set_user("cis2-stranger", email="stranger@nhs.example", **MFA)
    flood = Client(REMOTE_ADDR=ATTACKER)
    before = system_events()
    with time_machine.travel(window_start(ATTACKER, 600), tick=True):
        answers = [nhs_sign_in(flood, idp, "cis2-stranger").status_code for _ in range(4)]
        assert answers == [400] * 4
        # refused at the start now, before the provider is asked
        started = flood.post(reverse("accounts:oidc_start", args=["cis2"]))
        assert started.status_code == 429
        callback = flood.get(reverse("accounts:oidc_callback", args=["cis2"]), {"state": "x"})
        assert callback.status_code == 429
    assert system_events() - before == 4 + 1


# --- Refusals the account's auditors see (ADR 0031) ---------------------------------------


def auditor_trail(client_for, place) -> str:
    page = client_for(Role.AUDITOR).get(at(place, "audit_search"), {"action": "sign_in_failed"})
    return page.content.decode()


def test_a_deactivated_users_refused_nhs_sign_in_reaches_their_places_auditors(
    idp,  # noqa: F811
    place_a,
    cast,
    client_for,
):
    # Given a user who linked an NHS identity whose email is not their register email
    invitation = invited(place_a)
    client = Client()
    open_link(client, invitation)
    idp.set_user("cis2-subject-9", email="their.nhsmail@nhs.example", **MFA)
    nhs_sign_in(client, idp, "cis2-subject-9")
    user = invitation.membership.user
    admin = audit.Context(
        actor=cast[Role.PLACE_ADMIN],
        place_id=place_a.pk,
        actor_label=cast[Role.PLACE_ADMIN].email,
        role=Role.PLACE_ADMIN,
    )
    team.deactivate_user(membership=invitation.membership, by=admin)

    # When they try to sign in with it, deactivated
    assert nhs_sign_in(Client(), idp, "cis2-subject-9").status_code == 400

    # Then the refusal is theirs, and their place's auditors see it, with the identity used
    refusal = AuditEvent.objects.get(changes__step="NHS sign-in (cis2): account deactivated")
    assert (refusal.actor, refusal.actor_label) == (user, user.email)
    trail = auditor_trail(client_for, place_a)
    assert "account deactivated" in trail
    assert user.email in trail and "their.nhsmail@nhs.example" in trail


def test_a_bad_nhs_sign_in_in_the_session_of_a_set_up_link_is_the_links_users(
    idp,  # noqa: F811
    place_a,
    client_for,
):
    invitation = invited(place_a)
    client = Client()
    open_link(client, invitation)
    idp.set_user("cis2-subject-10", **MFA)
    idp.tamper = "signature"
    assert nhs_sign_in(client, idp, "cis2-subject-10").status_code == 400
    refusal = AuditEvent.objects.get(changes__step="NHS sign-in (cis2): bad signature")
    assert refusal.actor == invitation.membership.user
    assert "bad signature" in auditor_trail(client_for, place_a)


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        ({"used_at": timezone.now()}, "used"),
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "expired or replaced"),
    ],
)
def test_a_real_set_up_link_that_cannot_be_used_is_audited_as_its_users(
    place_a, cast, client_for, spoil, reason
):
    # Given a real invitation, used or expired
    invitation = invited(place_a)
    EnrolmentLink.objects.filter(user=invitation.membership.user).update(**spoil)

    # When it is opened
    response = Client().get(reverse("accounts:setup_link", args=[invitation.token]))

    # Then it is refused, and the refusal is the link's user's, seen by their auditors
    assert response.status_code == 404
    user = invitation.membership.user
    refusal = AuditEvent.objects.get(changes__step="set-up link not usable")
    assert (refusal.actor, refusal.actor_label, refusal.chain) == (user, user.email, chain.SYSTEM)
    trail = auditor_trail(client_for, place_a)
    assert user.email in trail and reason in trail


def test_a_set_up_link_that_names_no_one_stays_in_the_system_chain_with_its_address(
    place_a, cast, client_for
):
    Client(REMOTE_ADDR=ATTACKER).get(reverse("accounts:setup_link", args=["made-up"]))
    refusal = AuditEvent.objects.get(changes__step="set-up link not usable")
    assert (refusal.actor, refusal.actor_label, refusal.chain) == (None, "(set-up link)", "system")
    assert refusal.changes["ip"] == ATTACKER
    assert ATTACKER not in auditor_trail(client_for, place_a)


def no_account_trail(client, place) -> str:
    page = client.get(at(place, "audit_search"), {"trail": "no_account"})
    assert page.status_code == 200
    return page.content.decode()


def test_refusals_that_name_no_account_are_searchable_by_every_places_auditors(
    place_a, place_b, cast, client_for, settings
):
    # Given refusals naming no account: an unknown email, a made-up set-up link, and an
    # address turned away for too many attempts; and a refusal of a known account
    settings.SIGN_IN_FAILURES_RATE = "2/10m"
    member, elsewhere = cast[Role.KEYWORKER].email, cast["outsider"].email
    with time_machine.travel(window_start(ATTACKER, 600), tick=True):
        flood = Client(REMOTE_ADDR=ATTACKER)
        password_step(flood, "nobody@nowhere.example", "wrong")
        password_step(flood, "NOBODY2@nowhere.example", "wrong")
        assert password_step(flood, "nobody3@nowhere.example", "wrong").status_code == 429
    Client(REMOTE_ADDR=COLLEAGUE).get(reverse("accounts:setup_link", args=["made-up"]))
    password_step(Client(REMOTE_ADDR=COLLEAGUE), member, "wrong")
    password_step(Client(REMOTE_ADDR=COLLEAGUE), elsewhere, "wrong")

    # Then the auditors of either place find each of them, with its address
    auditor_b = factories.make_user(place=place_b, role=Role.AUDITOR, email="audit@b.example")
    for place, client in [
        (place_a, client_for(Role.AUDITOR)),
        (place_b, signed_in_client(auditor_b)),
    ]:
        trail = no_account_trail(client, place)
        assert "nobody@nowhere.example" in trail and "nobody2@nowhere.example" in trail
        assert "(too many attempts from this address)" in trail and ATTACKER in trail
        assert "(set-up link)" in trail and COLLEAGUE in trail
        # and not the known accounts', which are their places' alone
        assert member not in trail and elsewhere not in trail
    assert member in auditor_trail(client_for, place_a)
    assert "nobody@nowhere.example" not in auditor_trail(client_for, place_a)

    # And the search itself is audited with what was asked
    searches = AuditEvent.objects.filter(action="searched", changes__terms__trail="no_account")
    assert {(e.actor, e.place_id) for e in searches} == {
        (cast[Role.AUDITOR], place_a.pk),
        (auditor_b, place_b.pk),
    }


TRUST = "198.51.100.7"  # one NHS trust's shared public address
IMAGE = {  # what a browser sends for <img src> on another site's page
    "HTTP_SEC_FETCH_SITE": "cross-site",
    "HTTP_SEC_FETCH_MODE": "no-cors",
    "HTTP_SEC_FETCH_DEST": "image",
}
OWN_FORM = {"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_SEC_FETCH_MODE": "navigate"}
FROM_AN_EMAIL = {  # a link followed from webmail: a top-level navigation from another site
    "HTTP_SEC_FETCH_SITE": "cross-site",
    "HTTP_SEC_FETCH_MODE": "navigate",
    "HTTP_SEC_FETCH_DEST": "document",
}


def test_another_sites_images_cannot_spend_a_trusts_sign_in_budget(cast, place_a, settings):
    """A review: thirty <img> tags pointing at the NHS sign-in callback, or twenty at made-up
    set-up links, on any page one of a trust's staff opened, spent the budget of the trust's
    shared address: everyone there was turned away, for ten minutes or an hour, again and
    again. Another site's subresource requests are refused before anything counts them."""
    settings.OIDC_PROVIDERS = {
        "cis2": {"label": "NHS CIS2", "issuer": "https://idp.invalid", "client_id": "dsr"}
    }
    user = cast[Role.COORDINATOR]
    TOTPDevice.objects.get_or_create(user=user, defaults={"name": "app", "confirmed": True})
    real = invited(place_a)
    callback = reverse("accounts:oidc_callback", args=["cis2"]) + "?error=x"
    before = AuditEvent.objects.count()
    with time_machine.travel(window_start(TRUST, 3600), tick=True):
        for n in range(limit_of(settings.SIGN_IN_FAILURES_RATE)):
            assert Client(REMOTE_ADDR=TRUST).get(callback, **IMAGE).status_code == 403
            made_up = reverse("accounts:setup_link", args=[f"x{n}"])
            assert Client(REMOTE_ADDR=TRUST).get(made_up, **IMAGE).status_code == 403
        assert AuditEvent.objects.count() == before
        colleague = Client(REMOTE_ADDR=TRUST)
        signing_in = colleague.post(
            reverse("accounts:sign_in"), {"email": user.email, "password": PASSWORD}, **OWN_FORM
        )
        assert signing_in.status_code == 302
        link = reverse("accounts:setup_link", args=[real.token])
        assert Client(REMOTE_ADDR=TRUST).get(link, **FROM_AN_EMAIL).status_code == 200
    framed = FROM_AN_EMAIL | {"HTTP_SEC_FETCH_DEST": "iframe"}
    assert Client().get(reverse("accounts:sign_in"), **framed).status_code == 403
