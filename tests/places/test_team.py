"""A place's users (ADR 0016): invitations, roles, access removed, accounts deactivated,
second factors reset. The place admin's, audited, and never beyond the places they
administer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.accounts.models import EnrolmentLink, User, UserSession
from dsr.core import audit
from dsr.core.access import Role
from dsr.core.models import AuditEvent, OutgoingEmail
from dsr.places import services as places
from dsr.places import team
from dsr.places.models import Membership
from tests import factories
from tests.accounts.test_sign_in import enrolment_code
from tests.factories import SYSTEM
from tests.helpers import at, error_messages


def admin_of(user, place) -> audit.Context:
    return audit.Context(
        actor=user, place_id=place.pk, actor_label=user.email, role=Role.PLACE_ADMIN
    )


@pytest.fixture
def admin(cast, place_a):
    return admin_of(cast[Role.PLACE_ADMIN], place_a)


def invite(place, by, email="new.person@nhs.example", role=Role.KEYWORKER, **more):
    return team.invite_user(
        place=place, email=email, full_name="New Person", role=role, by=by, **more
    )


# --- Inviting ------------------------------------------------------------------------------


def test_an_invitation_makes_an_account_without_a_password_and_emails_a_one_time_link(
    admin, place_a, settings
):
    settings.SITE_URL = "https://dsr.example.nhs.uk"
    invited = invite(place_a, admin, email="New.Person@NHS.example")
    user = invited.membership.user
    assert user.email == "new.person@nhs.example" and not user.has_usable_password()
    assert (invited.membership.place, invited.membership.role) == (place_a, Role.KEYWORKER)
    link = EnrolmentLink.objects.get(user=user)
    assert link.purpose == "invitation" and link.expires_at > timezone.now() + timedelta(days=6)
    email = OutgoingEmail.objects.get()
    assert email.to == user.email
    assert f"https://dsr.example.nhs.uk/sign-in/set-up/{invited.token}/" in email.body
    event = AuditEvent.objects.get(action="invited")
    assert (event.place_id, event.changes["role"]) == (place_a.pk, "keyworker")


def test_inviting_an_existing_member_is_refused_nothing_written_and_audited(admin, cast, place_a):
    before = (User.objects.count(), Membership.objects.count(), OutgoingEmail.objects.count())
    with pytest.raises(ValidationError, match="is already a member of Place A"):
        invite(place_a, admin, email=cast[Role.COORDINATOR].email)
    assert (User.objects.count(), Membership.objects.count(), OutgoingEmail.objects.count()) == (
        before
    )
    refused = AuditEvent.objects.get(action="refused")
    assert (refused.object_type, refused.place_id) == ("invitation", place_a.pk)


def test_someone_with_an_account_in_another_place_keeps_one_account(admin, cast, place_a):
    outsider = cast["outsider"]  # coordinates place B, with a password and an authenticator
    TOTPDevice.objects.create(user=outsider, name="app", confirmed=True)
    invited = invite(place_a, admin, email=outsider.email, role=Role.VIEWER)
    assert invited.membership.user == outsider and invited.token == ""
    assert User.objects.filter(email=outsider.email).count() == 1
    assert set(outsider.memberships.values_list("place__name", "role")) == {
        ("Place A", "viewer"),
        ("Place B", "coordinator"),
    }
    assert "given you the viewer role" in OutgoingEmail.objects.get().body


def test_inviting_someone_whose_access_was_removed_gives_it_back(admin, cast, place_a):
    membership = Membership.objects.get(user=cast[Role.VIEWER])
    team.remove_access(membership=membership, by=admin)
    invite(place_a, admin, email=cast[Role.VIEWER].email, role=Role.KEYWORKER)
    membership.refresh_from_db()
    assert (membership.is_active, membership.role) == (True, Role.KEYWORKER)


def test_an_account_never_set_up_is_sent_a_new_invitation_link(admin, cast, place_a):
    invited = invite(place_a, admin, email=cast["outsider"].email, role=Role.VIEWER)
    assert invited.token and "set up your account" in OutgoingEmail.objects.get().body


def test_an_invitation_to_a_deactivated_account_is_refused(admin, cast, place_a):
    team.deactivate_user(membership=Membership.objects.get(user=cast[Role.VIEWER]), by=admin)
    team.remove_access(membership=Membership.objects.get(user=cast[Role.VIEWER]), by=admin)
    with pytest.raises(ValidationError, match="account is deactivated"):
        invite(place_a, admin, email=cast[Role.VIEWER].email)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not an email"}, "correct format"),
        ({"email": ""}, "Enter the email address"),
        ({"role": "superuser"}, "Select a role"),
        ({"full_name": "x" * 151}, "150 characters or fewer"),
        ({"full_name": "Evil\r\nBcc: victim@x.com"}, "on one line"),
        ({"full_name": "\u200b"}, "Enter the full name"),
        ({"job_title": "Nurse\x1b[2J"}, "control characters"),
    ],
)
def test_an_invitation_with_bad_input_is_refused(admin, place_a, fields, message):
    data = {"email": "a@nhs.example", "full_name": "A", "role": Role.VIEWER, **fields}
    with pytest.raises(ValidationError, match=message):
        team.invite_user(place=place_a, by=admin, **data)
    assert not User.objects.filter(email="a@nhs.example").exists()


# --- Never beyond the places one administers -------------------------------------------------


def test_a_place_admin_can_never_grant_a_role_in_a_place_they_do_not_administer(
    admin, cast, place_b
):
    membership_b = Membership.objects.get(user=cast["outsider"])
    attempts = [
        lambda: invite(place_b, admin),
        lambda: places.grant_membership(
            user=cast["nobody"], place=place_b, role=Role.COORDINATOR, by=admin
        ),
        lambda: team.change_role(
            membership=membership_b,
            role=Role.PLACE_ADMIN,
            expected_role=Role.COORDINATOR,
            by=admin,
        ),
        lambda: team.remove_access(membership=membership_b, by=admin),
        lambda: team.reset_second_factor(membership=membership_b, by=admin),
        lambda: team.unlock_sign_in(membership=membership_b, by=admin),
        lambda: team.deactivate_user(membership=membership_b, by=admin),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    membership_b.refresh_from_db()
    assert (membership_b.role, membership_b.is_active) == (Role.COORDINATOR, True)
    assert not Membership.objects.filter(place=place_b, user=cast["nobody"]).exists()
    assert AuditEvent.objects.filter(action="refused", place_id=place_b.pk).count() == len(attempts)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.PLACE_ADMIN])
def test_no_other_role_administers_its_place(cast, place_a, role):
    user = cast[role]
    by = audit.Context(actor=user, place_id=place_a.pk, actor_label=user.email, role=role)
    with pytest.raises(PermissionDenied):
        invite(place_a, by)


def test_the_invite_page_of_another_place_is_not_found(client_for, place_b):
    response = client_for(Role.PLACE_ADMIN).post(
        at(place_b, "places:invite"),
        {"email": "x@nhs.example", "full_name": "X", "role": "place_admin"},
    )
    assert response.status_code == 404
    assert not User.objects.filter(email="x@nhs.example").exists()


# --- Roles ------------------------------------------------------------------------------


def test_a_role_change_is_saved_and_audited(admin, cast):
    membership = Membership.objects.get(user=cast[Role.VIEWER])
    team.change_role(
        membership=membership, role=Role.KEYWORKER, expected_role=Role.VIEWER, by=admin
    )
    membership.refresh_from_db()
    assert membership.role == Role.KEYWORKER
    event = AuditEvent.objects.get(action="changed", object_type="Membership")
    assert event.changes["role"] == ["viewer", "keyworker"]


def test_a_role_changed_by_someone_else_meanwhile_is_not_overwritten(admin, cast):
    membership = Membership.objects.get(user=cast[Role.VIEWER])
    team.change_role(membership=membership, role=Role.AUDITOR, expected_role=Role.VIEWER, by=admin)
    with pytest.raises(ValidationError, match="Someone else changed this person's role"):
        team.change_role(
            membership=membership, role=Role.KEYWORKER, expected_role=Role.VIEWER, by=admin
        )
    membership.refresh_from_db()
    assert membership.role == Role.AUDITOR


def test_the_last_place_admin_cannot_be_demoted_removed_or_deactivated(admin, cast, place_a):
    own = Membership.objects.get(user=cast[Role.PLACE_ADMIN])
    with pytest.raises(ValidationError, match="at least one place admin"):
        team.change_role(membership=own, role=Role.VIEWER, expected_role=Role.PLACE_ADMIN, by=admin)
    with pytest.raises(ValidationError, match="at least one place admin"):
        team.remove_access(membership=own, by=admin)
    # With a second admin, the first may step down
    invite(place_a, admin, email="second.admin@nhs.example", role=Role.PLACE_ADMIN)
    team.change_role(membership=own, role=Role.VIEWER, expected_role=Role.PLACE_ADMIN, by=SYSTEM)


# --- Deactivating, removing access, resetting a second factor --------------------------------


def test_deactivating_an_account_ends_its_sessions_at_once(admin, client_for, cast, place_a):
    keyworker = cast[Role.KEYWORKER]
    client = client_for(Role.KEYWORKER)
    assert client.get(at(place_a, "register:list")).status_code == 200
    assert UserSession.objects.filter(user=keyworker).exists()

    team.deactivate_user(membership=Membership.objects.get(user=keyworker), by=admin)

    assert not UserSession.objects.filter(user=keyworker).exists()
    response = client.get(at(place_a, "register:list"))
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
    assert not User.objects.get(pk=keyworker.pk).is_active
    event = AuditEvent.objects.get(action="deactivated")
    assert (event.place_id, event.changes["user"]) == (place_a.pk, keyworker.email)


def test_a_link_sent_before_deactivation_does_not_work_after_reactivation(admin, cast, place_a):
    # Given a reset link emailed to a keyworker, unused
    membership = Membership.objects.get(user=cast[Role.KEYWORKER])
    reset = team.reset_second_factor(membership=membership, by=admin)

    # When they leave (deactivated) and come back (reactivated)
    team.deactivate_user(membership=membership, by=admin)
    team.reactivate_user(membership=membership, by=admin)

    # Then the old link is dead (a new one is sent for the return), and its refusal says so
    response = Client().get(reverse("accounts:setup_link", args=[reset.token]))
    assert response.status_code == 404
    refusal = AuditEvent.objects.get(action="sign_in_failed")
    assert refusal.changes["reason"] == "expired or replaced"


def test_a_locked_out_member_is_unlocked_by_their_place_admin_and_it_is_audited(
    cast, client_for, place_a, settings
):
    # Given a keyworker locked out after too many wrong passwords, from an address
    keyworker = cast[Role.KEYWORKER]
    TOTPDevice.objects.create(user=keyworker, name="phone", confirmed=True)
    attempt = Client(REMOTE_ADDR="203.0.113.9")
    sign_in = reverse("accounts:sign_in")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt.post(sign_in, {"email": keyworker.email, "password": "wrong-password-123"})
    right = {"email": keyworker.email, "password": factories.PASSWORD}
    assert attempt.post(sign_in, right).status_code == 429

    # When their place admin opens their page, it says so and offers to unlock it
    admin = client_for(Role.PLACE_ADMIN)
    member = Membership.objects.get(user=keyworker)
    page = admin.get(at(place_a, "places:member", member.pk)).content.decode()
    assert "Locked after too many wrong passwords" in page
    unlock = at(place_a, "places:member_unlock", member.pk)
    assert unlock in page
    assert admin.post(unlock, {"confirm": "yes"}).status_code == 302

    # Then the keyworker can sign in now, and the trail says who unlocked it and from where
    assert attempt.post(sign_in, right)["Location"] == reverse("accounts:verify")
    event = AuditEvent.objects.get(action="sign_in_unlocked")
    assert (event.actor, event.place_id) == (cast[Role.PLACE_ADMIN], place_a.pk)
    assert event.changes == {"user": keyworker.email, "addresses": ["203.0.113.9"]}
    # And an account that is not locked has nothing to unlock (refused, audited)
    assert (
        "Unlock their sign-in"
        not in admin.get(at(place_a, "places:member", member.pk)).content.decode()
    )
    refused = admin.post(unlock, {"confirm": "yes"})
    assert refused.status_code == 200 and "not locked" in refused.content.decode()


def test_an_account_working_in_another_place_is_not_deactivated_from_here(admin, cast, place_a):
    outsider = cast["outsider"]
    invite(place_a, admin, email=outsider.email, role=Role.VIEWER)
    with pytest.raises(ValidationError, match="also works in a place you do not administer"):
        team.deactivate_user(
            membership=Membership.objects.get(user=outsider, place=place_a), by=admin
        )
    assert User.objects.get(pk=outsider.pk).is_active


def test_an_account_working_in_another_place_is_not_reset_from_here(admin, cast, place_a):
    """A review: resetting the second factor ends every session of the account and unlinks
    its NHS identities, in every place it works in. An admin of one place signed another
    place's coordinator out, at will."""
    outsider = cast["outsider"]
    invite(place_a, admin, email=outsider.email, role=Role.VIEWER)
    devices = TOTPDevice.objects.filter(user=outsider).count()
    with pytest.raises(ValidationError, match="also works in a place you do not administer"):
        team.reset_second_factor(
            membership=Membership.objects.get(user=outsider, place=place_a), by=admin
        )
    assert TOTPDevice.objects.filter(user=outsider).count() == devices
    assert AuditEvent.objects.filter(action="refused", object_type="second factor").exists()


def test_an_invitation_withdrawn_by_removing_access_stops_working(admin, cast, place_a):
    """A review: the link sent to a wrong address went on working for a week after the
    admin removed the access it was for. Someone with access elsewhere keeps their links."""
    invitation = invite(place_a, admin)
    team.remove_access(membership=invitation.membership, by=admin)
    assert Client().get(reverse("accounts:setup_link", args=[invitation.token])).status_code == 404
    removed = AuditEvent.objects.filter(object_type="Membership").latest("pk")
    assert removed.changes["links_retired"] == 1
    outsider = cast["outsider"]
    elsewhere = invite(place_a, admin, email=outsider.email, role=Role.VIEWER)
    team.remove_access(membership=elsewhere.membership, by=admin)
    assert EnrolmentLink.objects.filter(user=outsider, used_at__isnull=True).exists()


def test_nobody_deactivates_or_resets_their_own_account(admin, cast):
    own = Membership.objects.get(user=cast[Role.PLACE_ADMIN])
    for action in (team.deactivate_user, team.reset_second_factor):
        with pytest.raises(ValidationError, match="your own account"):
            action(membership=own, by=admin)


def test_removing_access_ends_it_at_the_next_request_and_keeps_the_account(
    admin, client_for, cast, place_a
):
    client = client_for(Role.VIEWER)
    team.remove_access(membership=Membership.objects.get(user=cast[Role.VIEWER]), by=admin)
    assert client.get(at(place_a, "register:list")).status_code == 404
    assert User.objects.get(pk=cast[Role.VIEWER].pk).is_active


def test_resetting_a_lost_second_factor_is_audited_and_the_user_told_by_email(
    admin, client_for, cast, place_a
):
    coordinator = cast[Role.COORDINATOR]
    client = client_for(Role.COORDINATOR)  # signed in, with an authenticator
    assert TOTPDevice.objects.filter(user=coordinator).exists()

    reset = team.reset_second_factor(membership=Membership.objects.get(user=coordinator), by=admin)

    assert not TOTPDevice.objects.filter(user=coordinator).exists()
    assert client.get(at(place_a, "register:list")).status_code == 302  # signed out
    event = AuditEvent.objects.get(action="second_factor_reset")
    assert (event.place_id, event.actor_id) == (place_a.pk, cast[Role.PLACE_ADMIN].pk)
    email = OutgoingEmail.objects.get(to=coordinator.email)
    assert "reset the authenticator app" in email.body and reset.token in email.body

    # And the new link sets up a new authenticator, after the password
    fresh = Client()
    assert fresh.get(reverse("accounts:setup_link", args=[reset.token])).status_code == 200
    fresh.post(
        reverse("accounts:sign_in"), {"email": coordinator.email, "password": factories.PASSWORD}
    )
    fresh.get(reverse("accounts:enrol"))
    assert fresh.post(reverse("accounts:enrol"), {"code": enrolment_code(fresh)}).status_code == 302
    assert TOTPDevice.objects.filter(user=coordinator, confirmed=True).count() == 1


def test_a_new_invitation_replaces_the_old_link(admin, place_a):
    first = invite(place_a, admin)
    again = team.resend_invitation(membership=first.membership, by=admin)
    client = Client()
    assert client.get(reverse("accounts:setup_link", args=[first.token])).status_code == 404
    assert client.get(reverse("accounts:setup_link", args=[again.token])).status_code == 200


# --- The invitation journey -----------------------------------------------------------------


def test_the_invited_user_sets_a_password_then_an_authenticator_and_is_signed_in(
    admin, client, place_a
):
    invited = invite(place_a, admin)
    link = reverse("accounts:setup_link", args=[invited.token])
    page = client.get(link)
    assert "Create a password" in page.content.decode()

    response = client.post(link, {"password": "a long enough passphrase", "again": "different"})
    assert "The passwords do not match" in " ".join(error_messages(response))
    response = client.post(link, {"password": "password", "again": "password"})
    assert any("too short" in m or "too common" in m for m in error_messages(response))
    assert not User.objects.get(pk=invited.membership.user_id).has_usable_password()

    response = client.post(
        link, {"password": "correct horse battery", "again": "correct horse battery"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:enrol")
    client.get(reverse("accounts:enrol"))
    response = client.post(reverse("accounts:enrol"), {"code": enrolment_code(client)})
    assert response.status_code == 302
    assert client.get(at(place_a, "register:list")).status_code == 200
    assert AuditEvent.objects.filter(action="password_set").count() == 1
    # The link is used up: opening it again is refused, and audited
    assert Client().get(link).status_code == 404
    assert AuditEvent.objects.filter(
        action="sign_in_failed", changes__step="set-up link not usable"
    ).exists()


def test_an_expired_invitation_is_refused_and_audited(admin, client, place_a):
    invited = invite(place_a, admin)
    EnrolmentLink.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(reverse("accounts:setup_link", args=[invited.token]))
    assert response.status_code == 404
    assert "cannot be used" in response.content.decode()
    posted = client.post(
        reverse("accounts:setup_link", args=[invited.token]),
        {"password": "correct horse battery", "again": "correct horse battery"},
    )
    assert posted.status_code == 404
    assert not User.objects.get(pk=invited.membership.user_id).has_usable_password()


# --- Pages -----------------------------------------------------------------------------------


def test_the_users_page_lists_each_member_with_their_status(admin, client_for, place_a):
    invite(place_a, admin)
    body = client_for(Role.PLACE_ADMIN).get(at(place_a, "places:users")).content.decode()
    assert "new.person@nhs.example" in body and "Invited, not set up yet" in body
    assert "keyworker@a.example" in body


def test_the_users_page_costs_the_same_queries_however_many_users(client_for, admin, place_a):
    from tests.helpers import count_queries

    client = client_for(Role.PLACE_ADMIN)
    client.get(at(place_a, "places:users"))
    few = count_queries(lambda: client.get(at(place_a, "places:users")))
    for i in range(15):
        invite(place_a, admin, email=f"person{i}@nhs.example")
    many = count_queries(lambda: client.get(at(place_a, "places:users")))
    assert many == few


def test_inviting_from_the_page_sends_the_email_and_says_so(client_for, place_a, mailoutbox):
    response = client_for(Role.PLACE_ADMIN).post(
        at(place_a, "places:invite"),
        {"email": "page.invite@nhs.example", "full_name": "Page Invite", "role": "viewer"},
    )
    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["page.invite@nhs.example"]]
    assert OutgoingEmail.objects.get().status == "sent"


@pytest.mark.parametrize("server", ["refusing", "taking"])
def test_the_page_says_whether_the_invitation_went(client_for, place_a, settings, server):
    """With the mail server refusing connections the page still said the invitation had
    been sent: the admin waited for an email that was not coming (found by a review)."""
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once it is closed
    if server == "refusing":
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    client = client_for(Role.PLACE_ADMIN)
    response = client.post(
        at(place_a, "places:invite"),
        {"email": "page.invite@nhs.example", "full_name": "Page Invite", "role": "viewer"},
        follow=True,
    )
    said = response.content.decode()
    status = OutgoingEmail.objects.get().status
    if server == "refusing":
        assert status == "pending" and "could not be sent yet" in said
        assert "We have sent" not in said
    else:
        assert status == "sent" and "We have sent page.invite@nhs.example an invitation" in said


def test_a_one_button_action_needs_its_confirmation(client_for, cast, place_a):
    membership = Membership.objects.get(user=cast[Role.VIEWER])
    client = client_for(Role.PLACE_ADMIN)
    url = at(place_a, "places:member_deactivate", membership.pk)
    assert "Use the button on this page" in " ".join(error_messages(client.post(url, {})))
    assert User.objects.get(pk=cast[Role.VIEWER].pk).is_active
    assert client.post(url, {"confirm": "yes"}).status_code == 302
    assert not User.objects.get(pk=cast[Role.VIEWER].pk).is_active


# --- Bootstrapping -----------------------------------------------------------------------------


def test_the_first_admin_of_a_new_place_is_made_by_a_command(db, capsys):
    call_command(
        "create_place_admin",
        "--place",
        "Newplace",
        "--icb",
        "Some ICB",
        "--email",
        "first.admin@nhs.example",
        "--name",
        "First Admin",
    )
    out = capsys.readouterr().out
    membership = Membership.objects.get(user__email="first.admin@nhs.example")
    assert (membership.place.name, membership.role) == ("Newplace", Role.PLACE_ADMIN)
    assert "/sign-in/set-up/" in out
    assert AuditEvent.objects.filter(actor_label="create_place_admin command").exists()


def test_a_session_store_records_whose_session_it_is(cast):
    from dsr.accounts.sessions import SessionStore

    store: SessionBase = SessionStore()
    store["_auth_user_id"] = str(cast[Role.VIEWER].pk)
    store.save()
    assert UserSession.objects.get(session_key=store.session_key).user == cast[Role.VIEWER]


@pytest.mark.parametrize(
    "name",
    ["riskfactors:edit", "places:organisation_edit", "places:member", "places:member_deactivate"],
)
def test_a_place_admins_attempt_at_another_places_record_is_refused_and_audited_there(
    cast, client_for, place_a, place_b, name
):
    """Found by a review: a risk factor, an organisation or a membership of another place
    was a 404, but not audited, where every care record's refusal is."""
    from dsr.risk.models import RiskFactor
    from tests.helpers import at

    theirs = {
        "riskfactors:edit": RiskFactor.objects.filter(place=place_b).first(),
        "places:organisation_edit": places.add_organisation(
            place=place_b, name="B Trust", kind="nhs_trust", by=SYSTEM
        ),
        "places:member": Membership.objects.get(user=cast["outsider"], place=place_b),
        "places:member_deactivate": Membership.objects.get(user=cast["outsider"], place=place_b),
    }[name]
    admin = client_for(Role.PLACE_ADMIN)
    for method in (admin.get, admin.post):
        before = AuditEvent.objects.filter(action="denied").count()
        assert method(at(place_a, name, theirs.pk)).status_code == 404
        denied = AuditEvent.objects.filter(action="denied").order_by("-id")[:1].get()
        assert AuditEvent.objects.filter(action="denied").count() == before + 1
        assert denied.place_id == place_b.pk and denied.changes["reason"] == "outside scope"
    assert admin.get(at(place_a, name, 10**9)).status_code == 404  # no such record: no one's
