"""A place's users: invitations, roles, access removed, accounts deactivated, second factors
reset (ADR 0016). The place admin's services.

Every one checks that whoever acts administers the place concerned (`require_administers`:
a role can never be granted, changed or removed in a place one does not administer, whoever
calls), derives what changes from the locked rows, writes its audit event in the place's
chain in the same transaction, and queues its email through the outbox (sent after commit).
A user with memberships in several places keeps one account: an account is deactivated
only by someone who administers every place it works in.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from dsr.accounts import services as accounts
from dsr.accounts.models import LinkPurpose, User
from dsr.core import audit, outbox, validation
from dsr.core.access import Role
from dsr.core.models import AuditAction, OutgoingEmail
from dsr.places.models import Membership, Organisation, Place
from dsr.places.services import check_organisation, refusals_audited, require_administers

LAST_ADMIN = "A place needs at least one place admin. Give someone else the role first"
NOT_YOURSELF = "You cannot do this to your own account: ask another place admin"
ELSEWHERE = (
    "This person also works in a place you do not administer, so their account cannot be "
    "changed from here. Remove their access to this place instead"
)
ROLE_CHANGED_MEANWHILE = (
    "Someone else changed this person's role after you opened this page. "
    "Check their role now and try again"
)


@dataclass(frozen=True)
class Invited:
    membership: Membership
    email: OutgoingEmail
    token: str = ""  # the invitation link's token, when one was issued (sent by email)


def setup_address(token: str) -> str:
    """The full address of a set-up link, for an email."""
    return settings.SITE_URL.rstrip("/") + reverse("accounts:setup_link", args=[token])


def _other_admins(membership: Membership) -> int:
    """Active place admins of the membership's place, with active accounts, besides it."""
    return (
        Membership.objects.filter(
            place_id=membership.place_id,
            role=Role.PLACE_ADMIN,
            is_active=True,
            user__is_active=True,
        )
        .exclude(pk=membership.pk)
        .count()
    )


def _keep_an_admin(membership: Membership) -> None:
    if (
        membership.role == Role.PLACE_ADMIN
        and membership.is_active
        and membership.user.is_active
        and not _other_admins(membership)
    ):
        raise ValidationError(LAST_ADMIN)


def _not_yourself(membership: Membership, by: audit.Context) -> None:
    if by.user_id is not None and membership.user_id == by.user_id:
        raise ValidationError(NOT_YOURSELF)


def _administers_all_places_of(user: User, by: audit.Context, place_id: int) -> None:
    """Account-wide changes need the right in every place the account works in."""
    if by.actor is None and by.role is None:
        return
    elsewhere = (
        Membership.objects.filter(user=user, is_active=True)
        .exclude(place_id=place_id)
        .exclude(
            place_id__in=Membership.objects.filter(
                user_id=by.user_id or 0, role=Role.PLACE_ADMIN, is_active=True
            ).values("place_id")
        )
    )
    if elsewhere.exists():
        raise ValidationError(ELSEWHERE)


def _lock(membership: Membership) -> Membership:
    return (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "place")
        .get(pk=membership.pk)
    )


@refusals_audited("invitation")
def invite_user(
    *,
    place: Place,
    email: str,
    full_name: str,
    role: str,
    by: audit.Context,
    job_title: str = "",
    organisation: Organisation | None = None,
) -> Invited:
    """Invite someone to the place with a role.

    A new account gets a one-time invitation link by email (it expires); someone who
    already has an account (in another place) keeps it and is told of the new role; a
    person whose access here was removed has it back. An existing member is refused.
    """
    require_administers(by, place.pk)
    email = accounts.clean_email(email)
    full_name, job_title = accounts.clean_name_and_title(full_name, job_title)
    validation.one_of(role, Role, field="role", message="Select a role")
    check_organisation(organisation, place.pk, field="organisation")
    token = ""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email=email).first()
        membership = (
            Membership.objects.select_for_update().filter(user=user, place=place).first()
            if user is not None
            else None
        )
        if membership is not None and membership.is_active:
            raise ValidationError({"email": f"{email} is already a member of {place.name}"})
        if user is not None and not user.is_active:
            raise ValidationError(
                {
                    "email": "This person's account is deactivated. Reactivate it from the "
                    "list of users, or ask the place that deactivated it"
                }
            )
        if user is None:
            user = accounts.create_invited_user(
                email=email, full_name=full_name, job_title=job_title, by=by
            )
        if membership is None:
            membership = Membership.objects.create(
                user=user, place=place, role=role, organisation=organisation
            )
        else:
            membership.role, membership.organisation = role, organisation
            membership.is_active = True
            membership.save(update_fields=["role", "organisation", "is_active"])
        audit.record(
            context=by,
            action=AuditAction.INVITED,
            obj=membership,
            place_id=place.pk,
            changes={"user": email, "role": role},
        )
        if accounts.has_finished_set_up(user):
            message = outbox.queue(
                to=email,
                subject=f"You can now use the Dynamic Support Register for {place.name}",
                body=(
                    f"Hello {user.full_name},\n\n{place.name} has given you the "
                    f"{Role(role).label.lower()} role on its Dynamic Support Register. "
                    "Sign in as you usually do:\n\n"
                    f"{settings.SITE_URL.rstrip('/')}{reverse('accounts:sign_in')}\n"
                ),
            )
        else:
            token = accounts.issue_enrolment_link(
                user=user, by=by, days=accounts.INVITATION_DAYS, purpose=LinkPurpose.INVITATION
            )
            message = _queue_invitation(user, place, role, token)
    return Invited(membership=membership, email=message, token=token)


def _queue_invitation(user: User, place: Place, role: str, token: str) -> OutgoingEmail:
    return outbox.queue(
        to=user.email,
        subject=f"Your invitation to the Dynamic Support Register for {place.name}",
        body=(
            f"Hello {user.full_name},\n\n{place.name} has invited you to its Dynamic Support "
            f"Register as a {Role(role).label.lower()}.\n\nOpen this link to set up your "
            f"account. It works once, within {accounts.INVITATION_DAYS} days:\n\n"
            f"{setup_address(token)}\n\nIf you did not expect this email, ignore it and tell "
            "your team's DSR lead.\n"
        ),
    )


@refusals_audited("invitation")
def resend_invitation(*, membership: Membership, by: audit.Context) -> Invited:
    """A new invitation link for someone who has not set up their account yet (the old
    link stops working)."""
    require_administers(by, membership.place_id)
    with transaction.atomic():
        current = _lock(membership)
        if not current.is_active or not current.user.is_active:
            raise ValidationError("This person no longer has access to this place")
        if accounts.has_finished_set_up(current.user):
            raise ValidationError("This person has already set up their account")
        token = accounts.issue_enrolment_link(
            user=current.user,
            by=by,
            days=accounts.INVITATION_DAYS,
            purpose=LinkPurpose.INVITATION,
        )
        message = _queue_invitation(current.user, current.place, current.role, token)
    return Invited(membership=current, email=message, token=token)


@refusals_audited("membership")
def change_role(
    *,
    membership: Membership,
    role: str,
    expected_role: str,
    by: audit.Context,
    organisation: Organisation | None = None,
) -> Membership:
    """Give a member another role (and organisation) in the place. `expected_role`: the
    role the admin saw, so that two admins' changes never silently overwrite each other."""
    require_administers(by, membership.place_id)
    validation.one_of(role, Role, field="role", message="Select a role")
    check_organisation(organisation, membership.place_id, field="organisation")
    with transaction.atomic():
        current = _lock(membership)
        if current.role != expected_role:
            raise ValidationError(ROLE_CHANGED_MEANWHILE)
        if not current.is_active:
            raise ValidationError("This person no longer has access to this place")
        organisation_id = organisation.pk if organisation is not None else None
        changes: dict[str, list[object]] = {}
        if current.role != role:
            changes["role"] = [current.role, role]
            _keep_an_admin(current)
        if current.organisation_id != organisation_id:
            changes["organisation"] = [current.organisation_id, organisation_id]
        if not changes:
            return current
        current.role, current.organisation = role, organisation
        current.save(update_fields=["role", "organisation"])
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=current,
            place_id=current.place_id,
            changes={**changes, "user": current.user.email},
        )
    return current


@refusals_audited("membership")
def remove_access(*, membership: Membership, by: audit.Context) -> Membership:
    """The member no longer works in this place: their membership ends (kept, marked
    inactive; their account and other places are untouched). Access ends at their next
    request: memberships are read afresh on every one."""
    require_administers(by, membership.place_id)
    with transaction.atomic():
        current = _lock(membership)
        if not current.is_active:
            return current
        _keep_an_admin(current)
        current.is_active = False
        current.save(update_fields=["is_active"])
        changes: dict[str, object] = {"is_active": [True, False], "user": current.user.email}
        if not current.user.memberships.filter(is_active=True).exists():
            # Access to nowhere: an invitation not yet taken up (a wrong address, say) stops
            # working now, not in a week (a review).
            changes["links_retired"] = accounts.retire_links(user=current.user)
        audit.record(
            context=by,
            action=AuditAction.CHANGED,
            obj=current,
            place_id=current.place_id,
            changes=changes,
        )
    return current


@refusals_audited("account")
def deactivate_user(*, membership: Membership, by: audit.Context) -> User:
    """Deactivate the member's account: every session ends at once, and it cannot sign in
    by any route until reactivated. Only for accounts that work in no other place the
    admin does not administer."""
    require_administers(by, membership.place_id)
    with transaction.atomic():
        current = _lock(membership)
        _not_yourself(current, by)
        _administers_all_places_of(current.user, by, current.place_id)
        _keep_an_admin(current)
        return accounts.set_active(user=current.user, active=False, by=by)


@refusals_audited("account")
def reactivate_user(*, membership: Membership, by: audit.Context) -> User:
    require_administers(by, membership.place_id)
    with transaction.atomic():
        current = _lock(membership)
        _administers_all_places_of(current.user, by, current.place_id)
        return accounts.set_active(user=current.user, active=True, by=by)


@refusals_audited("sign-in lock")
def unlock_sign_in(*, membership: Membership, by: audit.Context) -> list[str]:
    """A member locked out of sign-in by too many wrong passwords (theirs, or someone
    trying their account): unlocked now rather than in an hour, audited with the addresses
    it was locked from (the locked-out page tells them to ask their place admin)."""
    require_administers(by, membership.place_id)
    with transaction.atomic():
        current = _lock(membership)
        if not current.is_active or not current.user.is_active:
            raise ValidationError("This person no longer has access to this place")
        if not accounts.locked(current.user).exists():
            raise ValidationError("Their sign-in is not locked")
        return accounts.unlock_sign_in(user=current.user, by=by)


@refusals_audited("second factor")
def reset_second_factor(*, membership: Membership, by: audit.Context) -> Invited:
    """A member lost their authenticator: it is removed, their sessions end, and they are
    emailed a one-time link to set up a new one (audited)."""
    require_administers(by, membership.place_id)
    with transaction.atomic():
        current = _lock(membership)
        _not_yourself(current, by)
        if not current.is_active or not current.user.is_active:
            raise ValidationError("This person no longer has access to this place")
        # It ends every session of the account and unlinks its NHS identities: account-wide,
        # as deactivating is (a review: an admin of one place signed out another's staff).
        _administers_all_places_of(current.user, by, current.place_id)
        token = accounts.reset_second_factor(user=current.user, by=by)
        message = outbox.queue(
            to=current.user.email,
            subject="Your Dynamic Support Register security codes were reset",
            body=(
                f"Hello {current.user.full_name},\n\nThe place admin for "
                f"{current.place.name} has reset the authenticator app you use to sign in "
                "to the Dynamic Support Register, and signed you out everywhere.\n\n"
                "Open this link to set up your authenticator app again. It works once, "
                f"within {accounts.LINK_DAYS} days:\n\n{setup_address(token)}\n\n"
                "If you did not ask for this, tell your team's DSR lead at once.\n"
            ),
        )
    return Invited(membership=current, email=message, token=token)
