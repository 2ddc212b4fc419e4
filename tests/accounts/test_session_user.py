"""The session, its user and its authenticator read in one query (dsr/accounts/backends.py),
with Django's and django-otp's own checks still deciding who is signed in: an account made
inactive or a password changed behind the session's back signs it out on its next page; a
session signed in by a backend no longer configured is no one's; an authenticator
unconfirmed, deleted or moved to another user no longer verifies the session."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dsr.accounts import backends
from dsr.accounts.models import User
from dsr.core.access import Role
from tests.helpers import at

pytestmark = pytest.mark.django_db

USERS = User._meta.db_table


def _signed_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        reverse("accounts:sign_in")
    )


def test_a_signed_in_page_reads_the_session_and_its_user_in_one_query(client_for, place_a):
    client = client_for(Role.COORDINATOR)
    client.get(at(place_a, "register:list"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(at(place_a, "register:list")).status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if f'FROM "{USERS}"' in q["sql"]]
    assert reads == []  # no read of the user of its own
    session_reads = [q["sql"] for q in queries.captured_queries if "usersession" in q["sql"]]
    assert len(session_reads) == 1 and f'JOIN "{USERS}"' in session_reads[0]


def test_an_account_made_inactive_in_the_database_is_signed_out_on_its_next_page(
    client_for, cast, place_a
):
    client = client_for(Role.COORDINATOR)
    assert client.get(at(place_a, "register:list")).status_code == 200
    User.objects.filter(pk=cast[Role.COORDINATOR].pk).update(is_active=False)
    assert _signed_out(client.get(at(place_a, "register:list")))


def test_a_password_changed_behind_the_session_signs_it_out(client_for, cast, place_a):
    client = client_for(Role.COORDINATOR)
    assert client.get(at(place_a, "register:list")).status_code == 200
    user = cast[Role.COORDINATOR]
    user.set_password("another long passphrase 2026")
    User.objects.filter(pk=user.pk).update(password=user.password)
    assert _signed_out(client.get(at(place_a, "register:list")))
    assert _signed_out(client.get(at(place_a, "register:list")))  # the session was ended


def test_a_session_signed_in_by_a_backend_no_longer_configured_is_no_ones(client_for, place_a):
    client = client_for(Role.COORDINATOR)
    session = client.session
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.RemoteUserBackend"
    session.save()
    assert _signed_out(client.get(at(place_a, "register:list")))


def test_the_session_user_is_handed_over_only_while_the_request_asks_for_it(client_for, place_a):
    client = client_for(Role.COORDINATOR)
    assert client.get(at(place_a, "register:list")).status_code == 200
    assert backends._LOADED.get() is None  # nothing is left for another request


def test_outside_a_request_the_backend_reads_the_user_by_id(cast):
    user = cast[Role.COORDINATOR]
    assert backends.SessionUserBackend().get_user(user.pk) == user
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert backends.SessionUserBackend().get_user(user.pk) is None


# The second factor, read with the session row ------------------------------------------

DEVICES = "otp_totp_totpdevice"


def _device_of(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.get(user=user)


def test_a_signed_in_page_reads_its_second_factor_with_the_session(client_for, place_a):
    client = client_for(Role.COORDINATOR)
    client.get(at(place_a, "register:list"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(at(place_a, "register:list")).status_code == 200
    assert not [q for q in queries.captured_queries if f'FROM "{DEVICES}"' in q["sql"]]
    (session_read,) = [q["sql"] for q in queries.captured_queries if "usersession" in q["sql"]]
    assert f'JOIN "{DEVICES}"' in session_read


def test_an_authenticator_unconfirmed_in_the_database_no_longer_verifies_the_session(
    client_for, cast, place_a
):
    client = client_for(Role.COORDINATOR)
    assert client.get(at(place_a, "register:list")).status_code == 200
    type(_device_of(cast[Role.COORDINATOR])).objects.filter(user=cast[Role.COORDINATOR]).update(
        confirmed=False
    )
    assert client.get(at(place_a, "register:list")).status_code == 302


def test_an_authenticator_deleted_or_moved_to_another_user_no_longer_verifies_it(
    client_for, cast, place_a
):
    keyworker = client_for(Role.KEYWORKER)
    coordinator = client_for(Role.COORDINATOR)
    device = _device_of(cast[Role.COORDINATOR])
    type(device).objects.filter(pk=device.pk).update(user=cast[Role.VIEWER])
    assert coordinator.get(at(place_a, "register:list")).status_code == 302
    _device_of(cast[Role.KEYWORKER]).delete()  # the session row still names it
    assert keyworker.get(at(place_a, "register:list")).status_code == 302
    assert keyworker.get(at(place_a, "register:list")).status_code == 302  # and saves


@pytest.mark.parametrize(
    "named, found",
    [
        ("otp_totp.totpdevice/12", 12),
        ("otp_totp.totpdevice/١٢", None),  # non-ASCII digits name no row
        ("otp_totp.totpdevice/" + "9" * 40, None),
        ("otp_static.staticdevice/12", None),
        ("otp_totp.totpdevice/-1", None),
        (None, None),
        (12, None),
    ],
)
def test_only_an_authenticator_apps_plain_id_is_carried_on_the_session_row(named, found):
    from dsr.accounts.sessions import _totp_device_id

    assert _totp_device_id(named) == found
