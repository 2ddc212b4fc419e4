"""NHS sign-in by OpenID Connect, end to end against a real provider started on localhost
(tests/oidc_provider.py): our Authlib client, real HTTP, real signed tokens (ADR 0017)."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.accounts.models import EnrolmentLink, ExternalIdentity, User
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.places import team
from tests import oidc_provider
from tests.factories import PASSWORD, SYSTEM
from tests.helpers import at

MFA = {"acr": "AAL3_ANY"}  # what CIS2 asserts for a smartcard or security key


@pytest.fixture
def idp(settings):
    """A CIS2-like provider: private_key_jwt, multi-factor asserted in `acr`."""
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # the provider serves plain HTTP locally
    try:
        with oidc_provider.running() as provider:
            key = oidc_provider.new_private_key()
            provider.register_client("dsr-cis2", private_key=key)
            settings.OIDC_PROVIDERS = {
                "cis2": provider.settings(
                    "dsr-cis2", label="NHS CIS2", private_key=key, mfa_acr=["AAL3_ANY"]
                )
            }
            settings.SITE_URL = "http://testserver"
            yield provider
    finally:
        del os.environ["AUTHLIB_INSECURE_TRANSPORT"]


def nhs_sign_in(
    client: Client,
    provider,
    sub: str,
    key: str = "cis2",
    next_path: str = "",
    set_up: bool | None = None,
):
    """The browser's round trip: our start, the provider's form, our callback. `set_up`:
    started from a set-up link's page (by default, when the browser has opened one)."""
    if set_up is None:
        set_up = "dsr_enrolment_link" in client.session
    form = {"next": next_path, **({"set_up": "1"} if set_up else {})}
    started = client.post(reverse("accounts:oidc_start", args=[key]), form)
    assert started.status_code == 302, started.status_code
    back = urlsplit(provider.sign_in(started["Location"], sub))
    return client.get(f"{back.path}?{back.query}")


def invited(place, email="newcomer@nhs.example", role=Role.KEYWORKER):
    return team.invite_user(place=place, email=email, full_name="New Comer", role=role, by=SYSTEM)


def open_link(client: Client, invitation) -> None:
    response = client.get(reverse("accounts:setup_link", args=[invitation.token]))
    assert response.status_code == 200


def failures(**filters):
    return AuditEvent.objects.filter(action="sign_in_failed", **filters)


def test_an_invited_user_signs_in_with_cis2_whose_mfa_stands_in_for_the_authenticator(
    idp, place_a, client
):
    # Given someone invited to place A, who opened their invitation link
    invitation = invited(place_a)
    open_link(client, invitation)
    idp.set_user("cis2-subject-1", email="someone.else@nhs.example", **MFA)

    # When they sign in with CIS2, which asserts multi-factor authentication
    response = nhs_sign_in(client, idp, "cis2-subject-1")

    # Then they are signed in, with no authenticator app of ours, and see their place
    assert response.status_code == 302
    assert client.get(at(place_a, "register:list")).status_code == 200
    user = invitation.membership.user
    assert not TOTPDevice.objects.filter(user=user).exists()
    identity = ExternalIdentity.objects.get(user=user)
    assert (identity.issuer, identity.subject) == (idp.issuer, "cis2-subject-1")
    # The invitation is used up; CIS2 authenticated us by private_key_jwt
    assert EnrolmentLink.objects.get(user=user).used_at is not None
    assert idp.client_auth == ["private_key_jwt"]
    signed_in = AuditEvent.objects.get(action="signed_in", actor=user)
    assert signed_in.changes["second_factor"] == "identity provider"
    assert signed_in.changes["provider"] == "cis2"


def test_the_next_sign_in_finds_the_account_by_its_identity_alone(idp, place_a, client):
    invitation = invited(place_a)
    open_link(client, invitation)
    idp.set_user("cis2-subject-2", **MFA)
    nhs_sign_in(client, idp, "cis2-subject-2")

    # A new browser, no link: the (issuer, subject) finds the account
    fresh = Client()
    response = nhs_sign_in(fresh, idp, "cis2-subject-2", next_path=at(place_a, "register:list"))
    assert response.status_code == 302 and response["Location"] == at(place_a, "register:list")
    assert fresh.get(response["Location"]).status_code == 200


def test_without_asserted_mfa_our_own_second_factor_is_still_required(idp, place_a, client):
    # Given an invited user whose CIS2 sign-in was a password only
    invitation = invited(place_a)
    open_link(client, invitation)
    idp.set_user("cis2-subject-3", acr="AAL1_USERPASS", amr=["pwd"])

    # When they come back from CIS2
    response = nhs_sign_in(client, idp, "cis2-subject-3")

    # Then they must set up our authenticator before seeing anything
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:enrol")
    page = client.get(at(place_a, "register:list"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("accounts:sign_in"))
    # and their identity is linked, the link kept for that set-up
    assert ExternalIdentity.objects.filter(user=invitation.membership.user).exists()
    assert EnrolmentLink.objects.get(user=invitation.membership.user).used_at is None


def test_a_user_the_provider_knows_but_the_register_does_not_is_refused_and_audited(
    idp, place_a, client
):
    # Given someone CIS2 knows, who was never invited here
    idp.set_user("cis2-stranger", email="stranger@nhs.example", **MFA)
    users_before = User.objects.count()

    # When they sign in with CIS2
    response = nhs_sign_in(client, idp, "cis2-stranger")

    # Then they are told clearly, nothing is written, and the refusal is audited
    assert response.status_code == 400
    assert "not linked to this register" in response.content.decode()
    assert User.objects.count() == users_before
    assert not ExternalIdentity.objects.exists()
    refusal = failures(actor_label="stranger@nhs.example").get()
    assert refusal.changes["step"] == "NHS sign-in (cis2): unknown user"
    assert client.get(at(place_a, "register:list")).status_code == 302


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("audience", "wrong audience"),
        ("issuer", "wrong issuer"),
        ("nonce", "wrong nonce"),
        ("signature", "bad signature"),
        ("expired", "expired ID token"),
    ],
)
def test_an_id_token_that_is_not_right_is_refused_and_audited_and_nothing_is_written(
    idp, place_a, client, tamper, reason
):
    # Given an invited user with their link open, and a provider whose ID token is wrong
    invitation = invited(place_a)
    open_link(client, invitation)
    idp.set_user("cis2-subject-4", **MFA)
    idp.tamper = tamper

    # When they come back from the provider
    response = nhs_sign_in(client, idp, "cis2-subject-4")

    # Then they are not signed in, told why in words, and the refusal is audited
    assert response.status_code == 400
    assert "was not meant for this service" in response.content.decode()
    assert failures(changes__step=f"NHS sign-in (cis2): {reason}").count() == 1
    assert not ExternalIdentity.objects.exists()
    assert EnrolmentLink.objects.get(user=invitation.membership.user).used_at is None
    assert not AuditEvent.objects.filter(action="signed_in").exists()
    assert client.get(at(place_a, "register:list")).status_code == 302


def test_a_client_secret_is_refused_where_the_provider_requires_private_key_jwt(
    idp, place_a, client, settings
):
    # Given our side misconfigured with a secret, where CIS2 wants private_key_jwt
    settings.OIDC_PROVIDERS["cis2"] = {
        **settings.OIDC_PROVIDERS["cis2"],
        "private_key": "",
        "client_secret": "a-guessed-secret",
    }
    invitation = invited(place_a)
    open_link(client, invitation)
    idp.set_user("cis2-subject-5", **MFA)

    response = nhs_sign_in(client, idp, "cis2-subject-5")

    assert response.status_code == 400
    assert failures(changes__step="NHS sign-in (cis2): provider error: invalid_client").exists()
    assert not ExternalIdentity.objects.exists()


def test_a_sign_in_finished_in_another_browser_is_refused(idp, place_a, client):
    idp.set_user("cis2-subject-6", **MFA)
    started = client.post(reverse("accounts:oidc_start", args=["cis2"]))
    back = urlsplit(idp.sign_in(started["Location"], "cis2-subject-6"))
    other = Client()
    response = other.get(f"{back.path}?{back.query}")
    assert response.status_code == 400
    assert "started in another browser" in response.content.decode()
    step = "NHS sign-in (cis2): state did not match this browser's sign-in"
    assert failures(changes__step=step).count() == 1


def test_a_deactivated_account_cannot_sign_in_with_its_identity(idp, place_a, client, cast):
    invitation = invited(place_a)
    open_link(client, invitation)
    idp.set_user("cis2-subject-7", **MFA)
    nhs_sign_in(client, idp, "cis2-subject-7")
    from dsr.core import audit

    admin = audit.Context(
        actor=cast[Role.PLACE_ADMIN],
        place_id=place_a.pk,
        actor_label="place_admin@a.example",
        role=Role.PLACE_ADMIN,
    )
    team.deactivate_user(membership=invitation.membership, by=admin)
    # Their session ended at once
    assert client.get(at(place_a, "register:list")).status_code == 302

    response = nhs_sign_in(Client(), idp, "cis2-subject-7")
    assert response.status_code == 400
    assert failures(changes__step="NHS sign-in (cis2): account deactivated").exists()


def test_the_provider_refusing_the_person_is_said_and_audited(idp, place_a, client):
    started = client.post(reverse("accounts:oidc_start", args=["cis2"]))
    state = parse_qs(urlsplit(started["Location"]).query)["state"][0]
    response = client.get(
        reverse("accounts:oidc_callback", args=["cis2"]),
        {"error": "access_denied", "error_description": "The user cancelled", "state": state},
    )
    assert response.status_code == 400
    assert "did not sign you in" in response.content.decode()
    assert failures(changes__step="NHS sign-in (cis2): provider error: access_denied").exists()


@pytest.mark.parametrize("code", ["\x00", "a\x00b", "x" * 65, 'say "hello"', "é"])
def test_a_callback_anyone_could_write_is_refused_audited_and_never_echoed(idp, db, client, code):
    """The callback's query string is anyone's to write: an error code OAuth would not send
    is recorded as such (PostgreSQL cannot store a NUL: the refusal went unaudited, a 500),
    and no description is shown on this service's page, whoever wrote it."""
    callback = reverse("accounts:oidc_callback", args=["cis2"])
    lure = "Your account is suspended: call 0800 000 000"
    response = client.get(callback, {"error": code, "error_description": lure})
    assert response.status_code == 400
    page = response.content.decode()
    assert "did not sign you in" in page
    assert "0800" not in page
    step = "NHS sign-in (cis2): provider error: not a valid code"
    assert failures(changes__step=step).count() == 1


def test_entra_id_signs_in_with_a_client_secret_and_amr_mfa(settings, place_a, client):
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        with oidc_provider.running() as entra:
            entra.register_client("dsr-entra", secret="entra-secret")
            settings.OIDC_PROVIDERS = {
                "entra": entra.settings(
                    "dsr-entra", label="NHSmail", secret="entra-secret", mfa_amr=["mfa"]
                )
            }
            settings.SITE_URL = "http://testserver"
            invitation = invited(place_a)
            open_link(client, invitation)
            entra.set_user("entra-oid-1", email="newcomer@nhs.net", amr=["pwd", "mfa"])
            response = nhs_sign_in(client, entra, "entra-oid-1", key="entra")
            assert response.status_code == 302
            assert client.get(at(place_a, "register:list")).status_code == 200
            assert entra.client_auth == ["client_secret"]
    finally:
        del os.environ["AUTHLIB_INSECURE_TRANSPORT"]


def test_an_unknown_provider_is_not_a_page(client):
    assert client.post(reverse("accounts:oidc_start", args=["nowhere"])).status_code == 404
    assert client.get(reverse("accounts:oidc_callback", args=["nowhere"])).status_code == 404


def test_a_provider_that_cannot_be_reached_is_said_and_audited(settings, client, db):
    settings.OIDC_PROVIDERS = {
        "cis2": {"label": "NHS CIS2", "issuer": "http://127.0.0.1:1", "client_id": "dsr"}
    }
    response = client.post(reverse("accounts:oidc_start", args=["cis2"]))
    assert response.status_code == 400
    assert "We could not reach NHS CIS2" in response.content.decode()
    assert failures(changes__step="NHS sign-in (cis2): provider unreachable").exists()


def test_a_set_up_link_planted_in_a_browser_does_not_take_its_users_nhs_identity(
    idp, place_a, client
):
    """Someone's own invitation link opened in another person's browser (a link in an
    email, an image), then that person's usual NHS sign-in from the sign-in page: their
    identity was linked to the planter's account, and every later NHS sign-in of theirs
    signed in as the planter (found by a review). Only the link page's own button links."""
    planted = invited(place_a, email="planter@nhs.example")
    open_link(client, planted)
    idp.set_user("victim-subject", email="victim@nhs.example", **MFA)
    response = nhs_sign_in(client, idp, "victim-subject", set_up=False)
    assert response.status_code == 400  # an identity the register does not know
    assert not ExternalIdentity.objects.filter(subject="victim-subject").exists()
    assert "_auth_user_id" not in client.session
    # the link's own page says whose account its button sets up, and links when used
    page = client.get(reverse("accounts:setup_link", args=[planted.token])).content.decode()
    assert "planter@nhs.example" in page and 'name="set_up"' in page


# --- A reset link and an NHS identity (found by an attack on step 5) -----------------------


def reset_link_for(user, place):
    from dsr.places.models import Membership
    from tests.places.test_team import admin_of

    admin = User.objects.get(email="place_admin@a.example")
    membership = Membership.objects.get(user=user, place=place)
    return team.reset_second_factor(membership=membership, by=admin_of(admin, place))


def link_with_password(client: Client, idp, user, token: str, subject: str):
    """The account's owner: their reset link, their password, then their NHS identity."""
    client.get(reverse("accounts:setup_link", args=[token]))
    step = client.post(reverse("accounts:sign_in"), {"email": user.email, "password": PASSWORD})
    assert step["Location"] == reverse("accounts:enrol")
    assert 'name="set_up"' in client.get(reverse("accounts:enrol")).content.decode()
    idp.set_user(subject, **MFA)
    return nhs_sign_in(client, idp, subject, set_up=True)


def test_a_reset_link_alone_never_links_an_nhs_identity_to_an_account_with_a_password(
    idp, place_a, cast, client
):
    # Given a keyworker with a password whose authenticator was reset
    user = cast[Role.KEYWORKER]
    reset = reset_link_for(user, place_a)

    # When someone holding only the link (an intercepted email) tries their NHS identity
    page = client.get(reverse("accounts:setup_link", args=[reset.token])).content.decode()
    assert 'name="set_up"' not in page  # the link's page offers the password only
    idp.set_user("intruder-subject", **MFA)
    response = nhs_sign_in(client, idp, "intruder-subject", set_up=True)

    # Then nothing is linked, nobody is signed in, and the refusal is the account's
    assert response.status_code == 400
    assert "Sign in with your email address and password first" in response.content.decode()
    assert not ExternalIdentity.objects.filter(subject="intruder-subject").exists()
    assert "_auth_user_id" not in client.session
    refusal = failures(
        changes__step="NHS sign-in (cis2): set-up link used without the account's password"
    ).get()
    assert (refusal.actor, refusal.actor_label) == (user, user.email)

    # And the link still serves its owner: the password, then their NHS identity
    owner = Client()
    assert link_with_password(owner, idp, user, reset.token, "owner-subject").status_code == 302
    assert ExternalIdentity.objects.get(subject="owner-subject").user == user
    assert owner.session["_auth_user_id"] == str(user.pk)
    assert EnrolmentLink.objects.get(user=user, purpose="second_factor").used_at is not None


def test_a_reset_removes_the_nhs_identities_linked_to_the_account(idp, place_a, cast):
    # Given a keyworker whose NHS identity is linked (by them, or by whoever had their account)
    user = cast[Role.KEYWORKER]
    first = reset_link_for(user, place_a)
    link_with_password(Client(), idp, user, first.token, "linked-subject")
    assert ExternalIdentity.objects.filter(user=user).exists()

    # When their place admin resets their sign-in
    reset_link_for(user, place_a)

    # Then that identity signs in to nothing, and the trail says what went
    assert not ExternalIdentity.objects.filter(user=user).exists()
    assert nhs_sign_in(Client(), idp, "linked-subject", set_up=False).status_code == 400
    event = AuditEvent.objects.filter(action="second_factor_reset").latest("id")
    assert event.changes["nhs_identities_removed"] == ["cis2"]


def test_a_session_that_did_not_give_the_password_does_not_count_as_having_given_it(
    idp, place_a, cast, client
):
    """A session pending for the account after an NHS sign-in with no second factor (not a
    password) must not let a set-up link link another identity (found by a review)."""
    user = cast[Role.KEYWORKER]
    reset = reset_link_for(user, place_a)
    client.get(reverse("accounts:setup_link", args=[reset.token]))
    session = client.session
    session["dsr_pending_user"] = user.pk  # as the callback of an NHS sign-in without MFA
    session.save()
    idp.set_user("second-provider-subject", **MFA)
    assert nhs_sign_in(client, idp, "second-provider-subject", set_up=True).status_code == 400
    assert not ExternalIdentity.objects.filter(subject="second-provider-subject").exists()
