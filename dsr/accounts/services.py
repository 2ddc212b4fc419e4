"""Sign-in events, accounts, set-up links and second-factor enrolment.

Who may invite, deactivate or reset someone is decided a layer up, by the place they
administer (dsr/places/team.py); these are the account-level operations it calls.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import login, password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.accounts.middleware import SIGNED_IN_AT
from dsr.accounts.models import EnrolmentLink, ExternalIdentity, LinkPurpose, User
from dsr.accounts.sessions import end_sessions
from dsr.core import audit, validation
from dsr.core.access import IDP_MFA
from dsr.core.models import AuditAction
from dsr.core.text import ascii_digits

BACKEND = "dsr.accounts.backends.SessionUserBackend"


def _context(request: HttpRequest, user: User | None, label: str = "") -> audit.Context:
    return audit.Context(
        actor=user,
        place_id=None,
        request_id=getattr(request, "request_id", ""),
        actor_label=label or (user.email if user else ""),
    )


def record_sign_in_failure(
    *,
    request: HttpRequest,
    email: str = "",
    locked: bool,
    step: str = "password",
    user: User | None = None,
    details: dict[str, str] | None = None,
) -> None:
    """A refused sign-in step (password, code, set-up code, set-up link): in the system
    chain, by the address the attempt really came from (core/proxy.py).

    `user`: the account the refusal concerns, when one is known (a deactivated account's
    NHS identity, a used set-up link): the event carries it and its email, so its place's
    auditors see it whatever was typed or asserted (ADR 0031). Otherwise `email` labels it.
    """
    label = user.email if user is not None else (email[:254] or "(blank)")
    with transaction.atomic():
        audit.record(
            context=_context(request, user, label=label),
            action=AuditAction.LOCKED_OUT if locked else AuditAction.SIGN_IN_FAILED,
            object_type="User",
            object_id=user.pk if user is not None else "",
            changes={"ip": request.META.get("REMOTE_ADDR", ""), "step": step, **(details or {})},
        )


def complete_sign_in(
    *,
    request: HttpRequest,
    user: User,
    device: TOTPDevice | None,
    provider: str = "",
    idp_mfa: dict[str, object] | None = None,
) -> None:
    """Both factors are good (or demo mode): start the session and audit it.

    `provider`: signed in with an NHS identity (ADR 0017); `idp_mfa`: what the identity
    provider asserted as its multi-factor authentication, standing in for `device`.
    """
    with transaction.atomic():
        login(request, user, backend=BACKEND)
        if device is not None:
            otp_login(request, device)
        elif idp_mfa:
            request.session[IDP_MFA] = idp_mfa
        request.session[SIGNED_IN_AT] = time.time()
        audit.record(
            context=_context(request, user),
            action=AuditAction.SIGNED_IN,
            obj=user,
            changes={
                "ip": request.META.get("REMOTE_ADDR", ""),
                "second_factor": "authenticator app"
                if device is not None
                else ("identity provider" if idp_mfa else False),
                **({"provider": provider} if provider else {}),
            },
        )


class CodesThrottled(Exception):
    """Too many wrong codes lately: django-otp refuses any code, right or wrong, until
    `wait_seconds` have passed (its delay doubles with each wrong code)."""

    def __init__(self, wait_seconds: int) -> None:
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


CODE_DIGITS = 6


def _code(code: str) -> str:
    """`code` if it is what an authenticator shows (six digits 0-9), else "" (a wrong code).
    The forms check this too, but a service takes only what it checked: `int()`, as the
    codes are compared, would also read "١٢٣٤٥٦" and fail on "12a456" with a 500."""
    return code if len(code) == CODE_DIGITS and ascii_digits(code) else ""


def _matches(totp: TOTP, code: str) -> bool:
    """Whether `code` is the new authenticator's, one step either side of now."""
    return bool(_code(code)) and totp.verify(int(code), tolerance=1)


def verify_code(*, user: User, code: str) -> TOTPDevice | None:
    """The user's authenticator, if `code` is its current code and has not been used.

    Checked with the device row locked: two sessions racing one code queue here, and the
    second finds the code already used (django-otp keeps the last step used), so a code
    signs in one session only. Raises CodesThrottled while django-otp is refusing codes, so
    the user is not told that a right code is wrong.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            return None
        allowed, why = device.verify_is_allowed()
        if not allowed:
            until = (why or {}).get("locked_until") or timezone.now()
            raise CodesThrottled(max(1, math.ceil((until - timezone.now()).total_seconds())))
        # A malformed code is a wrong one: django-otp counts it towards its delay.
        return device if device.verify_token(_code(code)) else None


LINK_DAYS = 3
INVITATION_DAYS = 7


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _retire_links(user: User, now: datetime) -> int:
    """The user's unused set-up links stop working now; how many were still usable."""
    unused = EnrolmentLink.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now)
    return unused.update(expires_at=now)


def retire_links(*, user: User) -> int:
    """The user's unused set-up links stop working now, in the caller's transaction (its
    audit event says so); how many there were."""
    return _retire_links(user, timezone.now())


def issue_enrolment_link(
    *,
    user: User,
    by: audit.Context,
    days: int = LINK_DAYS,
    purpose: str = LinkPurpose.SECOND_FACTOR,
) -> str:
    """A one-time link for the user to set up their account or second factor; returns its
    token (sent once, by email or to the operator: only its hash is kept). Issuing a new
    link retires the user's unused ones."""
    validation.one_of(purpose, LinkPurpose, field="purpose", message="Choose a purpose")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        _retire_links(user, now)
        EnrolmentLink.objects.create(
            user=user,
            token_hash=_token_hash(token),
            expires_at=now + timedelta(days=days),
            issued_by=by.actor_label or getattr(by.actor, "email", ""),
            purpose=purpose,
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            object_type="EnrolmentLink",
            object_id=user.pk,
            changes={"user": user.email, "days": days, "purpose": purpose},
        )
    return token


def clean_email(value: object) -> str:
    """An account's email address, as it is kept (lower case)."""
    email = validation.text(
        value, field="email", label="Email address", max_length=254, required=True
    ).lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            {"email": "Enter an email address in the correct format, like name@example.nhs.uk"}
        ) from None
    return email


def clean_name_and_title(full_name: object, job_title: object) -> tuple[str, str]:
    """An account's full name and job title, held to their columns' lengths."""
    return (
        validation.text(
            full_name, field="full_name", label="Full name", max_length=150, required=True
        ),
        validation.text(
            job_title, field="job_title", label="Job title", max_length=150, required=False
        ),
    )


def create_invited_user(*, email: str, full_name: str, job_title: str, by: audit.Context) -> User:
    """An account for someone invited: no password until they set one through their
    invitation (or sign in with their NHS identity instead). The account and its audit
    event in one transaction (the caller's, when there is one); an address that already has
    an account is refused, not a second account."""
    email = clean_email(email)
    full_name, job_title = clean_name_and_title(full_name, job_title)
    with transaction.atomic():
        if User.objects.filter(email=email).exists():
            raise ValidationError({"email": "There is already an account with this email address"})
        user = User.objects.create_user(email, None, full_name=full_name, job_title=job_title)
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            obj=user,
            changes={"email": [None, user.email]},
        )
    return user


def has_finished_set_up(user: User) -> bool:
    """Whether the account can sign in: a password and an authenticator, or an NHS
    identity (whose provider may assert the second factor itself)."""
    if ExternalIdentity.objects.filter(user=user).exists():
        return True
    has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return user.has_usable_password() and has_device


PASSWORDS_DIFFER = "The passwords do not match. Enter the same password twice"


def set_first_password(
    *, request: HttpRequest, link: EnrolmentLink, password: str, again: str
) -> User:
    """The invited user chooses their password, once, through their unused link (ADR 0016).

    Held to the password rules (12 characters or more, not common, not like the email);
    a user who already has a password signs in with it instead.
    """
    if not isinstance(password, str) or not isinstance(again, str):
        raise ValidationError({"password": "Enter a password"})
    if password != again:
        raise ValidationError({"again": PASSWORDS_DIFFER})
    with transaction.atomic():
        current = (
            EnrolmentLink.objects.select_for_update()
            .select_related("user")
            .filter(pk=link.pk, used_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
        if current is None or not current.user.is_active:
            raise ValidationError("This link has expired or has already been used")
        user = current.user
        if user.has_usable_password():
            raise ValidationError("You have already set a password: sign in with it")
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(
            context=_context(request, user),
            action=AuditAction.PASSWORD_SET,
            obj=user,
            changes={"ip": request.META.get("REMOTE_ADDR", "")},
        )
    return user


def set_active(*, user: User, active: bool, by: audit.Context) -> User:
    """Deactivate or reactivate an account, in the caller's transaction. Deactivated, its
    sessions end at once and it cannot sign in (any way) until reactivated."""
    current = User.objects.select_for_update().get(pk=user.pk)
    if current.is_active == active:
        return current
    current.is_active = active
    current.save(update_fields=["is_active"])
    if not active:
        end_sessions(current.pk)
        # Its unused set-up links die with it: reactivation must not revive a link sent
        # before (an admin sends a new one).
        _retire_links(current, timezone.now())
    audit.record(
        context=by,
        action=AuditAction.REACTIVATED if active else AuditAction.DEACTIVATED,
        obj=current,
        changes={"user": current.email},
    )
    return current


def locked(user: Any) -> Any:
    """Whether django-axes has locked the account's sign-in from any address now: as a
    subquery on a user (an OuterRef) or a user."""
    return AccessAttempt.objects.filter(
        username=user.email if isinstance(user, User) else user,
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME),
    )


def unlock_sign_in(*, user: User, by: audit.Context) -> list[str]:
    """Clear the account's lockout (django-axes' counts of its failed passwords, from every
    address) in the caller's transaction, audited with the addresses it was locked from;
    those addresses returned. The failures themselves stay in the audit trail."""
    attempts = AccessAttempt.objects.filter(username=user.email)
    addresses = sorted({a for a in attempts.values_list("ip_address", flat=True) if a})
    attempts.delete()
    audit.record(
        context=by,
        action=AuditAction.SIGN_IN_UNLOCKED,
        obj=user,
        changes={"user": user.email, "addresses": addresses},
    )
    return addresses


def reset_second_factor(*, user: User, by: audit.Context) -> str:
    """A lost authenticator, or an account that may have been taken over: its authenticators
    and linked NHS identities removed, the account's sessions ended, and a new one-time
    set-up link issued (its token returned, for the email that tells the user). In the
    caller's transaction. The identities go too: one linked by whoever took the account
    would otherwise go on signing in (found by an attack on step 5); the user links theirs
    again through the new link."""
    removed = TOTPDevice.objects.filter(user=user).delete()[0]
    identities = list(ExternalIdentity.objects.filter(user=user).values_list("provider", flat=True))
    ExternalIdentity.objects.filter(user=user).delete()
    end_sessions(user.pk)
    audit.record(
        context=by,
        action=AuditAction.SECOND_FACTOR_RESET,
        obj=user,
        changes={
            "user": user.email,
            "authenticators_removed": removed,
            "nhs_identities_removed": identities,
        },
    )
    return issue_enrolment_link(user=user, by=by, purpose=LinkPurpose.SECOND_FACTOR)


def usable_link(token: str) -> EnrolmentLink | None:
    """The unexpired, unused link a token names, or None."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    return (
        EnrolmentLink.objects.select_related("user")
        .filter(
            token_hash=_token_hash(token or ""),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .first()
    )


def unusable_link(token: str) -> tuple[User, str] | None:
    """Whose set-up link a token names that cannot be used, and why; None if it names no
    link at all (mistyped, or made up)."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    link = (
        EnrolmentLink.objects.select_related("user").filter(token_hash=_token_hash(token)).first()
    )
    if link is None:
        return None
    if link.used_at is not None:
        return link.user, "used"
    if link.expires_at <= timezone.now():
        return link.user, "expired or replaced"
    if not link.user.is_active:
        return link.user, "account deactivated"
    return link.user, "usable"  # became usable between two looks: never, in practice


def link_user(link_id: int | None) -> User | None:
    """The user whose set-up link this session came through, whatever the link's state."""
    if link_id is None:
        return None
    link = EnrolmentLink.objects.select_related("user").filter(pk=link_id).first()
    return link.user if link is not None else None


def link_belongs(*, link_id: int | None, user: User) -> bool:
    """Whether the set-up link this session came through is the signing-in user's own, and
    still usable. A link replaced by a newer one while its page was open led on to the
    authenticator step, where every right code was "not correct" (a review)."""
    link = link_by_id(link_id)
    return link is not None and link.user_id == user.pk


def link_by_id(link_id: int | None) -> EnrolmentLink | None:
    """The still-usable link this session came through, or None."""
    if link_id is None:
        return None
    return (
        EnrolmentLink.objects.select_related("user")
        .filter(
            pk=link_id, used_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True
        )
        .first()
    )


def use_link(*, link_id: int, user: User) -> bool:
    """Use up the user's link once their account is set up another way (an NHS identity
    whose provider asserted multi-factor authentication)."""
    return bool(
        EnrolmentLink.objects.filter(pk=link_id, user=user, used_at__isnull=True).update(
            used_at=timezone.now()
        )
    )


def new_secret() -> str:
    """A fresh authenticator secret, kept in the enrolling session only (hex)."""
    return secrets.token_hex(20)


def enrol(
    *, request: HttpRequest, user: User, link_id: int, secret: str, code: str
) -> TOTPDevice | None:
    """Bind the authenticator the user set up from this session's secret, if `code` is
    right and the link is still usable; the link is then used up. None: nothing bound.

    The device starts with the step that code matched as its last one used, so the code
    that set it up cannot also sign in another session (verify_code refuses used steps)."""
    totp = TOTP(bytes.fromhex(secret))
    if not _matches(totp, code):
        return None
    with transaction.atomic():
        link = (
            EnrolmentLink.objects.select_for_update()
            .filter(pk=link_id, user=user, used_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
        if link is None or TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return None
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        return _bind(request, user, secret, totp)


def _bind(
    request: HttpRequest, user: User, secret: str, totp: TOTP, **changes: object
) -> TOTPDevice:
    """The user's new authenticator, starting at the step its code matched (so that code
    cannot also sign in), audited; in the caller's transaction."""
    device = TOTPDevice.objects.create(
        user=user,
        name="Authenticator app",
        key=secret,
        confirmed=True,
        last_t=totp.t(),
        drift=totp.drift,
    )
    audit.record(
        context=_context(request, user),
        action=AuditAction.SECOND_FACTOR_ENROLLED,
        obj=user,
        changes={"ip": request.META.get("REMOTE_ADDR", ""), **changes},
    )
    return device


def replace_authenticator(
    *, request: HttpRequest, user: User, current: str, secret: str, new: str
) -> TOTPDevice:
    """A new authenticator app in place of the user's current one, which vouches for it
    with a code of its own (issue 8: an existing factor, or a set-up link). Raises
    ValidationError naming the code that was wrong, CodesThrottled while codes are refused.

    The new app's code is checked first (nothing stored), so a mistyped new code does not
    use up the current one; the current code is then checked and used up as at sign-in
    (verify_code, its own transaction: a wrong one counts towards django-otp's delay even
    though this change is refused). The new device starts at the step its code matched."""
    totp = TOTP(bytes.fromhex(secret))
    if not _matches(totp, new):
        raise ValidationError(
            {"new": "The code from your new app is not correct. Check it and try again"}
        )
    if verify_code(user=user, code=current) is None:
        raise ValidationError(
            {"current": "The code from your current app is not correct. Try its next code"}
        )
    with transaction.atomic():
        replaced = TOTPDevice.objects.filter(user=user).delete()[0]
        # Every other session was verified with the app that is gone: it signs in again
        # (a review found them kept, signed in to nothing, sent to and fro).
        ended = end_sessions(user.pk, but=request.session.session_key)
        return _bind(
            request,
            user,
            secret,
            totp,
            vouched_for_by="the authenticator it replaced",
            authenticators_replaced=replaced,
            other_sessions_ended=ended,
        )


def record_sign_out(*, request: HttpRequest, user: User) -> None:
    with transaction.atomic():
        audit.record(context=_context(request, user), action=AuditAction.SIGNED_OUT, obj=user)
