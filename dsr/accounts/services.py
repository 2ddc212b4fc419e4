"""Sign-in events and second-factor enrolment."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.accounts.middleware import SIGNED_IN_AT
from dsr.accounts.models import EnrolmentLink, User
from dsr.core import audit
from dsr.core.models import AuditAction

BACKEND = "django.contrib.auth.backends.ModelBackend"


def _context(request: HttpRequest, user: User | None, label: str = "") -> audit.Context:
    return audit.Context(
        actor=user,
        place_id=None,
        request_id=getattr(request, "request_id", ""),
        actor_label=label or (user.email if user else ""),
    )


def record_sign_in_failure(
    *, request: HttpRequest, email: str, locked: bool, step: str = "password"
) -> None:
    """A refused sign-in step (password, code, set-up code, set-up link): in the system
    chain, by the address the attempt really came from (core/proxy.py)."""
    with transaction.atomic():
        audit.record(
            context=_context(request, None, label=email[:254] or "(blank)"),
            action=AuditAction.LOCKED_OUT if locked else AuditAction.SIGN_IN_FAILED,
            object_type="User",
            changes={"ip": request.META.get("REMOTE_ADDR", ""), "step": step},
        )


def complete_sign_in(*, request: HttpRequest, user: User, device: TOTPDevice | None) -> None:
    """Both factors are good (or demo mode): start the session and audit it."""
    with transaction.atomic():
        login(request, user, backend=BACKEND)
        if device is not None:
            otp_login(request, device)
        request.session[SIGNED_IN_AT] = time.time()
        audit.record(
            context=_context(request, user),
            action=AuditAction.SIGNED_IN,
            obj=user,
            changes={
                "ip": request.META.get("REMOTE_ADDR", ""),
                "second_factor": device is not None,
            },
        )


def verify_code(*, user: User, code: str) -> TOTPDevice | None:
    """The user's authenticator, if `code` is its current code and has not been used.

    Checked with the device row locked: two sessions racing one code queue here, and the
    second finds the code already used (django-otp keeps the last step used), so a code
    signs in one session only.
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None or not device.verify_is_allowed()[0]:
            return None
        return device if device.verify_token(code) else None


LINK_DAYS = 3


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_enrolment_link(*, user: User, by: audit.Context, days: int = LINK_DAYS) -> str:
    """A one-time link for the user to set up their second factor; returns its token (shown
    once: only its hash is kept). Issuing a new link retires the user's unused ones."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        EnrolmentLink.objects.filter(user=user, used_at__isnull=True).update(expires_at=now)
        EnrolmentLink.objects.create(
            user=user,
            token_hash=_token_hash(token),
            expires_at=now + timedelta(days=days),
            issued_by=by.actor_label or getattr(by.actor, "email", ""),
        )
        audit.record(
            context=by,
            action=AuditAction.CREATED,
            object_type="EnrolmentLink",
            object_id=user.pk,
            changes={"user": user.email, "days": days},
        )
    return token


def usable_link(token: str) -> EnrolmentLink | None:
    """The unexpired, unused link a token names, or None."""
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


def link_belongs(*, link_id: int | None, user: User) -> bool:
    """Whether the set-up link this session came through is the signing-in user's own."""
    return link_id is not None and EnrolmentLink.objects.filter(pk=link_id, user=user).exists()


def new_secret() -> str:
    """A fresh authenticator secret, kept in the enrolling session only (hex)."""
    return secrets.token_hex(20)


def enrol(
    *, request: HttpRequest, user: User, link_id: int, secret: str, code: str
) -> TOTPDevice | None:
    """Bind the authenticator the user set up from this session's secret, if `code` is
    right and the link is still usable; the link is then used up. None: nothing bound."""
    if not TOTP(bytes.fromhex(secret)).verify(int(code), tolerance=1):
        return None
    with transaction.atomic():
        link = (
            EnrolmentLink.objects.select_for_update()
            .filter(pk=link_id, user=user, used_at__isnull=True, expires_at__gt=timezone.now())
            .first()
        )
        if link is None or TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return None
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", key=secret, confirmed=True
        )
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        audit.record(
            context=_context(request, user),
            action=AuditAction.SECOND_FACTOR_ENROLLED,
            obj=user,
            changes={"ip": request.META.get("REMOTE_ADDR", "")},
        )
    return device


def record_sign_out(*, request: HttpRequest, user: User) -> None:
    with transaction.atomic():
        audit.record(context=_context(request, user), action=AuditAction.SIGNED_OUT, obj=user)
