"""Right passwords are counted per account: each costs an Argon2 hash, and one account whose
password is known (phished, or an insider's own) could otherwise post it in parallel until
every worker was hashing (ADR 0031)."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.core.access import Role
from dsr.core.models import AuditEvent
from tests.accounts.test_sign_in_floods import ATTACKER, COLLEAGUE, password_step, window_start
from tests.factories import PASSWORD
from tests.helpers import at

STEP = "rate limit: passwords per account"


def test_an_accounts_password_is_not_checked_once_it_has_been_right_too_often(
    cast, settings, client_for, place_a
):
    settings.SIGN_IN_PASSWORDS_PER_ACCOUNT_RATE = "3/10m"
    user, colleague = cast[Role.KEYWORKER], cast[Role.COORDINATOR]
    for someone in (user, colleague):
        TOTPDevice.objects.create(user=someone, name="phone", confirmed=True)
    start = window_start(user.email, 600)
    with time_machine.travel(start, tick=True):
        # Given an account whose password has been right as often as the window allows
        for _ in range(3):
            assert password_step(Client(REMOTE_ADDR=ATTACKER), user.email).status_code == 302

        # Then its password posts are answered 429 before the password is checked: the
        # right one, the email typed another way, and a wrong one (not counted as a failure)
        for email, password in [
            (user.email, PASSWORD),
            (f"  {user.email.upper()} ", PASSWORD),
            (user.email, "wrong-password-123"),
        ]:
            response = password_step(Client(REMOTE_ADDR=COLLEAGUE), email, password)
            assert response.status_code == 429
        assert "Too many sign-ins to this account" in response.content.decode()
        assert not AccessAttempt.objects.filter(username=user.email).exists()
        assert not AuditEvent.objects.filter(action="sign_in_failed").exists()

        # while another account at the same address signs in
        assert password_step(Client(REMOTE_ADDR=ATTACKER), colleague.email).status_code == 302

    # One refusal is audited for the window, as the account's, and its auditors see it
    refusal = AuditEvent.objects.get(changes__step=STEP)
    assert (refusal.actor, refusal.actor_label, refusal.action) == (user, user.email, "locked_out")
    page = client_for(Role.AUDITOR).get(at(place_a, "audit_search"), {"action": "locked_out"})
    assert STEP in page.content.decode() and user.email in page.content.decode()

    # And in the next window the account signs in again
    with time_machine.travel(start + timedelta(minutes=10), tick=True):
        assert password_step(Client(REMOTE_ADDR=ATTACKER), user.email).status_code == 302


def test_wrong_passwords_use_none_of_an_accounts_budget(cast, settings):
    # Someone without the password cannot stop the account's owner signing in
    settings.SIGN_IN_PASSWORDS_PER_ACCOUNT_RATE = "3/10m"
    user = cast[Role.KEYWORKER]
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    with time_machine.travel(window_start(user.email, 600), tick=True):
        for n in range(10):  # from ten addresses, so that the lockout stays out of it
            client = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
            assert password_step(client, user.email, "wrong-password-123").status_code == 200
        assert password_step(Client(REMOTE_ADDR=COLLEAGUE), user.email).status_code == 302


def test_the_production_budget_is_20_right_passwords_an_account_in_10_minutes():
    from dsr.config import settings as production

    assert production.SIGN_IN_PASSWORDS_PER_ACCOUNT_RATE == "20/10m"
