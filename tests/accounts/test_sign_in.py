"""Signing in: password, then authenticator code; lockout; session lifetimes."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.accounts import services
from dsr.accounts.middleware import SIGNED_IN_AT
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from tests.factories import PASSWORD, SYSTEM
from tests.helpers import at


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def password_step(client: Client, email: str, password: str = PASSWORD, next_url: str = ""):
    url = reverse("accounts:sign_in") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"email": email, "password": password})


def test_production_hashes_passwords_with_argon2_and_asks_for_12_characters():
    from dsr.config import settings as production

    assert production.PASSWORD_HASHERS == ["dsr.accounts.hashers.Argon2idHasher"]
    lengths = [v for v in production.AUTH_PASSWORD_VALIDATORS if "MinimumLength" in v["NAME"]]
    assert lengths[0]["OPTIONS"]["min_length"] == 12


def test_passwords_are_argon2id_with_rfc_9106_parameters_and_old_hashes_upgrade_at_sign_in(
    cast, client, settings
):
    from django.contrib.auth.hashers import Argon2PasswordHasher, identify_hasher

    settings.PASSWORD_HASHERS = ["dsr.accounts.hashers.Argon2idHasher"]
    user = cast[Role.COORDINATOR]
    user.password = Argon2PasswordHasher().encode(PASSWORD, "seasaltseasalt12")  # m=100 MiB
    user.save(update_fields=["password"])
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    assert password_step(client, user.email).status_code == 302
    user.refresh_from_db()
    params = identify_hasher(user.password).decode(user.password)
    assert user.password.startswith("argon2$argon2id$")
    assert (params["time_cost"], params["memory_cost"], params["parallelism"]) == (3, 65536, 4)


def test_sign_in_needs_the_password_and_then_the_authenticator_code(cast, client, place_a):
    user = cast[Role.COORDINATOR]
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    response = password_step(client, user.email, next_url="/people/")
    assert response["Location"] == reverse("accounts:verify")
    # not signed in yet: protected pages still send you to sign in
    assert client.get(at(place_a, "register:list")).status_code == 302
    response = client.post(reverse("accounts:verify"), {"code": code_for(device)})
    assert response["Location"] == "/people/"
    assert client.get(at(place_a, "register:list")).status_code == 200
    assert AuditEvent.objects.filter(action="signed_in", actor=user).count() == 1


def test_a_wrong_code_is_refused_and_audited(cast, client, place_a):
    user = cast[Role.COORDINATOR]
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    password_step(client, user.email)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("accounts:verify"), {"code": wrong})
    assert "security code is not correct" in response.content.decode()
    assert client.get(at(place_a, "register:list")).status_code == 302
    assert AuditEvent.objects.filter(action="sign_in_failed", actor_label=user.email).exists()


def test_while_codes_are_refused_for_a_while_the_right_one_is_not_called_wrong(cast, client):
    user = cast[Role.COORDINATOR]
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False) as clock:
        password_step(client, user.email)
        wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
        client.post(reverse("accounts:verify"), {"code": wrong})
        response = client.post(reverse("accounts:verify"), {"code": code_for(device)})
        page = response.content.decode()
        assert "Too many wrong codes. Wait 1 second and try again" in page
        assert "not correct" not in page and "reset your authenticator" in page
        steps = AuditEvent.objects.filter(action="sign_in_failed", actor_label=user.email)
        assert [e.changes["step"] for e in steps.order_by("pk")] == ["code", "code throttled"]
        clock.shift(2)
        response = client.post(reverse("accounts:verify"), {"code": code_for(device)})
    assert response.status_code == 302


def enrolment_code(client) -> str:
    """What the user's app shows for the secret this session is setting up."""
    from django_otp.oath import TOTP

    from dsr.accounts.views import PENDING_SECRET

    return f"{TOTP(bytes.fromhex(client.session[PENDING_SECRET])).token():06d}"


def test_a_user_without_an_authenticator_sets_one_up_only_through_a_set_up_link(
    cast, client, place_a
):
    user = cast[Role.COORDINATOR]
    token = services.issue_enrolment_link(user=user, by=SYSTEM)
    assert client.get(reverse("accounts:setup_link", args=[token])).status_code == 200
    response = password_step(client, user.email)
    assert response["Location"] == reverse("accounts:enrol")
    page = client.get(reverse("accounts:enrol")).content.decode()
    assert "<svg" in page and 'id="totp-secret"' in page
    assert not TOTPDevice.objects.filter(user=user).exists()  # nothing bound before the code
    response = client.post(reverse("accounts:enrol"), {"code": enrolment_code(client)})
    assert response.status_code == 302
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get(at(place_a, "register:list")).status_code == 200
    # the link is used up
    other = Client()
    assert other.get(reverse("accounts:setup_link", args=[token])).status_code == 404


def test_the_code_that_set_up_an_authenticator_does_not_sign_in_another_session(cast, client):
    user = cast[Role.COORDINATOR]
    client.get(
        reverse("accounts:setup_link", args=[services.issue_enrolment_link(user=user, by=SYSTEM)])
    )
    password_step(client, user.email)
    client.get(reverse("accounts:enrol"))
    code = enrolment_code(client)
    assert client.post(reverse("accounts:enrol"), {"code": code}).status_code == 302
    # Someone who has the password and saw that code, in another session, within its step
    other = Client()
    password_step(other, user.email)
    response = other.post(reverse("accounts:verify"), {"code": code})
    assert response.status_code == 200
    assert "security code is not correct" in response.content.decode()
    assert AuditEvent.objects.filter(action="signed_in", actor=user).count() == 1


def test_a_password_alone_never_binds_an_authenticator(cast, client):
    user = cast[Role.COORDINATOR]
    response = password_step(client, user.email)
    assert response.status_code == 200 and "set-up link" in response.content.decode()
    assert client.get(reverse("accounts:enrol")).status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    refusal = AuditEvent.objects.get(action="sign_in_failed", actor_label=user.email)
    assert refusal.changes["step"] == "no set-up link"


def test_someone_elses_set_up_link_does_not_help(cast, client):
    token = services.issue_enrolment_link(user=cast[Role.KEYWORKER], by=SYSTEM)
    client.get(reverse("accounts:setup_link", args=[token]))
    response = password_step(client, cast[Role.COORDINATOR].email)
    assert response.status_code == 200 and "set-up link" in response.content.decode()


def test_a_set_up_link_opened_in_a_planted_session_is_not_the_planters(cast):
    """Someone who knows the password leaves a session at "needs a set-up link" and plants
    its cookie in the user's browser; the user opens their link. The link went into the
    planter's session, and the planter enrolled their own authenticator (found by an attack
    on step 5). Opening a link now starts a new session, and a password given before it
    does not count."""
    user = cast[Role.COORDINATOR]
    planter = Client()
    password_step(planter, user.email)
    planted = planter.cookies[django_settings.SESSION_COOKIE_NAME].value
    victim = Client()
    victim.cookies[django_settings.SESSION_COOKIE_NAME] = planted

    token = services.issue_enrolment_link(user=user, by=SYSTEM)
    assert victim.get(reverse("accounts:setup_link", args=[token])).status_code == 200

    assert victim.cookies[django_settings.SESSION_COOKIE_NAME].value != planted
    assert planter.get(reverse("accounts:enrol")).status_code == 302
    assert victim.get(reverse("accounts:enrol")).status_code == 302  # the password first
    assert password_step(victim, user.email)["Location"] == reverse("accounts:enrol")
    assert victim.get(reverse("accounts:enrol")).status_code == 200


def test_each_session_sets_up_its_own_secret_and_a_link_binds_once(cast, place_a):
    user = cast[Role.COORDINATOR]
    token = services.issue_enrolment_link(user=user, by=SYSTEM)
    first, second = Client(), Client()
    for client in (first, second):
        client.get(reverse("accounts:setup_link", args=[token]))
        password_step(client, user.email)
        client.get(reverse("accounts:enrol"))
    from dsr.accounts.views import PENDING_SECRET

    assert first.session[PENDING_SECRET] != second.session[PENDING_SECRET]
    assert first.post(reverse("accounts:enrol"), {"code": enrolment_code(first)}).status_code == 302
    response = second.post(reverse("accounts:enrol"), {"code": enrolment_code(second)})
    assert response.status_code in {200, 302}
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_a_secret_left_half_set_up_is_never_shown_to_the_next_user_of_the_browser(cast, client):
    """One person opened their link, saw their secret and walked away; the next person at
    the same computer, through their own link, was shown the same secret, so the first
    knew the second's authenticator (found by a review)."""
    from base64 import b32encode

    from dsr.accounts.views import PENDING_SECRET

    first, second = cast[Role.KEYWORKER], cast[Role.COORDINATOR]
    for user in (first, second):
        token = services.issue_enrolment_link(user=user, by=SYSTEM)
        client.get(reverse("accounts:setup_link", args=[token]))
        password_step(client, user.email)
        page = client.get(reverse("accounts:enrol")).content.decode()
        if user == first:
            left = client.session[PENDING_SECRET]
    shown = b32encode(bytes.fromhex(left)).decode()
    assert client.session[PENDING_SECRET] != left
    assert shown not in page.replace(" ", "")
    assert (
        client.post(reverse("accounts:enrol"), {"code": enrolment_code(client)}).status_code == 302
    )
    assert TOTPDevice.objects.get(user=second).key != left


def test_a_secret_scanned_before_an_upgrade_still_sets_up_the_authenticator(cast, client):
    """A session from a server not yet upgraded holds the secret without its owner: the
    person who scanned it, mid-way through a rolling deploy, is not made to start again."""
    from dsr.accounts.views import PENDING_SECRET, PENDING_SECRET_USER

    user = cast[Role.COORDINATOR]
    client.get(
        reverse("accounts:setup_link", args=[services.issue_enrolment_link(user=user, by=SYSTEM)])
    )
    password_step(client, user.email)
    client.get(reverse("accounts:enrol"))
    scanned = client.session[PENDING_SECRET]
    session = client.session
    del session[PENDING_SECRET_USER]  # as the server before this change left it
    session.save()
    assert (
        client.post(reverse("accounts:enrol"), {"code": enrolment_code(client)}).status_code == 302
    )
    assert TOTPDevice.objects.get(user=user).key == scanned


def test_a_wrong_set_up_code_is_refused_and_audited(cast, client):
    user = cast[Role.COORDINATOR]
    client.get(
        reverse("accounts:setup_link", args=[services.issue_enrolment_link(user=user, by=SYSTEM)])
    )
    password_step(client, user.email)
    client.get(reverse("accounts:enrol"))
    wrong = f"{(int(enrolment_code(client)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("accounts:enrol"), {"code": wrong})
    assert "security code is not correct" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    failed = AuditEvent.objects.get(action="sign_in_failed", actor_label=user.email)
    assert failed.changes["step"] == "set-up code"


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(cast, client):
    response = password_step(client, cast[Role.COORDINATOR].email, password="not-the-password")
    assert "Enter a correct email address and password" in response.content.decode()
    assert AuditEvent.objects.filter(action="sign_in_failed").count() == 1


def test_repeated_failures_lock_out_that_user_from_that_address(cast, client, settings):
    user = cast[Role.COORDINATOR]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        password_step(client, user.email, password="wrong-password-123")
    response = password_step(client, user.email)  # even the right password now
    assert response.status_code == 429
    assert "locked" in response.content.decode()
    # another user from the same address is not locked out
    TOTPDevice.objects.create(user=cast[Role.KEYWORKER], name="phone", confirmed=True)
    other = Client()
    response = password_step(other, cast[Role.KEYWORKER].email)
    assert response.status_code == 302


def test_demo_mode_signs_in_with_the_password_alone(cast, client, settings, place_a):
    settings.DSR_DEMO = True
    response = password_step(client, cast[Role.COORDINATOR].email)
    assert response.status_code == 302
    assert client.get(at(place_a, "register:list")).status_code == 200


def test_sessions_expire_after_15_idle_minutes():
    assert django_settings.SESSION_COOKIE_AGE == 15 * 60
    assert django_settings.SESSION_ENGINE == "dsr.accounts.sessions"  # database-backed


def test_activity_renews_the_idle_expiry_at_most_once_a_minute(client_for, place_a):
    from dsr.accounts.models import UserSession as Session

    client = client_for(Role.COORDINATOR)
    client.get(at(place_a, "register:list"))
    key = client.session.session_key
    first = Session.objects.get(session_key=key).expire_date
    with time_machine.travel(time.time() + 30):
        client.get(at(place_a, "register:list"))
        assert Session.objects.get(session_key=key).expire_date == first
    with time_machine.travel(time.time() + 90):
        client.get(at(place_a, "register:list"))
        assert Session.objects.get(session_key=key).expire_date > first


def test_an_idle_session_has_expired_after_15_minutes(client_for, place_a):
    client = client_for(Role.COORDINATOR)
    client.get(at(place_a, "register:list"))
    with time_machine.travel(time.time() + 16 * 60):
        response = client.get(at(place_a, "register:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:sign_in"))


def test_sessions_end_10_hours_after_sign_in_however_active(client_for, place_a):
    client = client_for(Role.COORDINATOR)
    assert client.get(at(place_a, "register:list")).status_code == 200
    session = client.session
    session[SIGNED_IN_AT] = time.time() - 10 * 60 * 60 - 1
    session.save()
    response = client.get(at(place_a, "register:list"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:sign_in")
    )


def test_sign_out_ends_the_session_and_is_audited(client_for, cast, place_a):
    client = client_for(Role.COORDINATOR)
    response = client.post(reverse("accounts:sign_out"))
    assert response["Location"] == reverse("accounts:signed_out")
    assert client.get(at(place_a, "register:list")).status_code == 302
    assert AuditEvent.objects.filter(action="signed_out", actor=cast[Role.COORDINATOR]).exists()


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/"])
def test_sign_in_never_redirects_off_site(cast, client, settings, next_url):
    settings.DSR_DEMO = True
    response = password_step(client, cast[Role.COORDINATOR].email, next_url=next_url)
    assert response["Location"] == "/"


def test_sign_in_form_bad_input_is_a_clear_error(client, db):
    response = client.post(reverse("accounts:sign_in"), {"email": "not-an-email", "password": ""})
    body = response.content.decode()
    assert response.status_code == 200 and "nhsuk-error-summary" in body


def test_the_sign_in_page_asks_for_an_authenticator_code_only_where_one_is_needed(client, settings):
    assert "security code" in client.get(reverse("accounts:sign_in")).content.decode()
    settings.DSR_DEMO = True
    from django.template import engines

    engines["jinja2"].env.globals["demo_mode"] = True
    try:
        body = client.get(reverse("accounts:sign_in")).content.decode()
    finally:
        engines["jinja2"].env.globals["demo_mode"] = False
    assert "security code" not in body and "password printed by" in body
