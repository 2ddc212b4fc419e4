"""A new phone, the old one at hand: the current authenticator app vouches for the new one
(issue 8: enrolling a second factor needs more than the password: a set-up link, or an
existing factor)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.core.access import IDP_MFA, Role
from dsr.core.models import AuditEvent
from tests.accounts.test_sign_in import code_for, enrolment_code, password_step

PAGE = reverse("accounts:change_authenticator")


def test_the_current_app_vouches_for_the_new_one(cast, client_for):
    # Given a signed-in keyworker with an authenticator app, on the page
    user = cast[Role.KEYWORKER]
    client = client_for(Role.KEYWORKER)
    old = TOTPDevice.objects.get(user=user)
    page = client.get(PAGE)
    assert page.status_code == 200 and "totp-secret" in page.content.decode()

    # When they give the new app's code and the current app's
    response = client.post(PAGE, {"new": enrolment_code(client), "current": code_for(old)})

    # Then the new app is theirs, the old one gone, and the trail says how
    assert response.status_code == 302
    # and this session goes on, with the new app
    assert (
        not client.get(response["Location"], follow=True)
        .redirect_chain[-1][0]
        .startswith("/sign-in/")
    )
    new = TOTPDevice.objects.get(user=user)
    assert new.pk != old.pk and new.key != old.key
    event = AuditEvent.objects.get(action="second_factor_enrolled", actor=user)
    assert event.changes["vouched_for_by"] == "the authenticator it replaced"
    assert event.changes["authenticators_replaced"] == 1
    # and the next sign-in asks the new app
    fresh = Client()
    password_step(fresh, user.email)
    assert fresh.post(reverse("accounts:verify"), {"code": code_for(old)}).status_code == 200
    assert "_auth_user_id" not in fresh.session


def test_a_wrong_current_code_changes_nothing_and_is_audited(cast, client_for):
    user = cast[Role.KEYWORKER]
    client = client_for(Role.KEYWORKER)
    old = TOTPDevice.objects.get(user=user)
    client.get(PAGE)
    wrong = f"{(int(code_for(old)) + 1) % 1_000_000:06d}"
    response = client.post(PAGE, {"new": enrolment_code(client), "current": wrong})
    assert response.status_code == 200
    assert "The code from your current app is not correct" in response.content.decode()
    assert list(TOTPDevice.objects.filter(user=user)) == [old]
    refusal = AuditEvent.objects.get(action="sign_in_failed", actor=user)
    assert refusal.changes["step"] == "change authenticator: current code"


def test_a_wrong_new_code_does_not_use_up_the_current_one(cast, client_for):
    user = cast[Role.KEYWORKER]
    client = client_for(Role.KEYWORKER)
    old = TOTPDevice.objects.get(user=user)
    client.get(PAGE)
    wrong = f"{(int(enrolment_code(client)) + 1) % 1_000_000:06d}"
    response = client.post(PAGE, {"new": wrong, "current": code_for(old)})
    assert "The code from your new app is not correct" in response.content.decode()
    assert list(TOTPDevice.objects.filter(user=user)) == [old]
    # the same current code still serves (a used one would not), with the right new one
    response = client.post(PAGE, {"new": enrolment_code(client), "current": code_for(old)})
    assert response.status_code == 302


def test_an_nhs_sign_in_has_no_app_to_change(cast, client_for):
    user = cast[Role.VIEWER]
    client = client_for(Role.VIEWER)
    TOTPDevice.objects.filter(user=user).delete()
    session = client.session
    session[IDP_MFA] = {"acr": "AAL3_ANY"}
    session.save()
    page = client.get(PAGE).content.decode()
    assert "no authenticator app to change" in page
    assert client.post(PAGE, {"new": "123456", "current": "123456"}).status_code == 200
    assert not TOTPDevice.objects.filter(user=user).exists()


def test_the_page_needs_a_full_sign_in(client, db):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


def test_the_page_reads_a_bounded_number_of_queries(
    cast, client_for, django_assert_max_num_queries
):
    client = client_for(Role.KEYWORKER)
    client.get(PAGE)  # the session's secret made
    with django_assert_max_num_queries(6):
        assert client.get(PAGE).status_code == 200


def test_the_services_take_only_six_ascii_digits(cast, client_for, rf):
    """A caller other than the forms: another script's digits, letters or a short code are
    wrong codes (no 500, nothing bound), and a malformed one counts as a wrong one."""
    from django_otp.oath import TOTP

    from dsr.accounts import services

    user = cast[Role.KEYWORKER]
    client_for(Role.KEYWORKER)
    old = TOTPDevice.objects.get(user=user)
    to_eastern = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    right = code_for(old)
    assert int(right.translate(to_eastern)) == int(right)  # what int() alone let through
    secret = services.new_secret()
    new = f"{TOTP(bytes.fromhex(secret)).token():06d}"
    request = rf.post("/")
    for bad in (new.translate(to_eastern), "12a456", new[:5], ""):
        with pytest.raises(ValidationError, match="new app is not correct"):
            services.replace_authenticator(
                request=request, user=user, current=right, secret=secret, new=bad
            )
        assert (
            services.enrol(request=request, user=user, link_id=0, secret=secret, code=bad) is None
        )
    assert list(TOTPDevice.objects.filter(user=user)) == [old]
    assert services.verify_code(user=user, code=right.translate(to_eastern)) is None
    assert TOTPDevice.objects.get(pk=old.pk).throttling_failure_count == 1


def test_every_other_session_signs_in_again(cast, client_for, place_a):
    """A review: another browser's session, verified with the old app, was kept: signed in
    to nothing, sent from the home page to sign-in and back for ever, its expiry renewed on
    each trip. Now it ends with the change; a session found in that state ends at sign-in."""
    import time

    import time_machine

    from tests.helpers import at

    user = cast[Role.KEYWORKER]
    here = client_for(Role.KEYWORKER)
    old = TOTPDevice.objects.get(user=user)
    there = Client()
    password_step(there, user.email)
    with time_machine.travel(time.time() + 31):
        assert there.post(reverse("accounts:verify"), {"code": code_for(old)}).status_code == 302
        here.get(PAGE)
    with time_machine.travel(time.time() + 62):
        here.post(PAGE, {"new": enrolment_code(here), "current": code_for(old)})
        assert here.get(at(place_a, "register:list")).status_code == 200
        assert there.get(at(place_a, "register:list")).status_code == 302
        assert there.get(reverse("accounts:sign_in")).status_code == 200
    event = AuditEvent.objects.get(action="second_factor_enrolled", actor=user)
    assert event.changes["other_sessions_ended"] == 1
    # a session whose authenticator went another way (a row removed by hand, say)
    stranded = client_for(Role.KEYWORKER)
    TOTPDevice.objects.filter(user=user).delete()
    assert stranded.get(reverse("accounts:sign_in")).status_code == 200
    assert "_auth_user_id" not in stranded.session
