"""Sign-in events and second-factor enrolment."""

from __future__ import annotations

import time

from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from dsr.accounts.middleware import SIGNED_IN_AT
from dsr.accounts.models import User
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


def record_sign_in_failure(*, request: HttpRequest, email: str, locked: bool) -> None:
    with transaction.atomic():
        audit.record(
            context=_context(request, None, label=email[:254] or "(blank)"),
            action=AuditAction.LOCKED_OUT if locked else AuditAction.SIGN_IN_FAILED,
            object_type="User",
            changes={"ip": request.META.get("REMOTE_ADDR", "")},
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


def pending_device(*, user: User) -> TOTPDevice:
    """The unconfirmed authenticator being enrolled (one per user, reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def confirm_device(*, request: HttpRequest, user: User, device: TOTPDevice) -> None:
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit.record(
            context=_context(request, user),
            action=AuditAction.SECOND_FACTOR_ENROLLED,
            obj=user,
        )


def record_sign_out(*, request: HttpRequest, user: User) -> None:
    with transaction.atomic():
        audit.record(context=_context(request, user), action=AuditAction.SIGNED_OUT, obj=user)
