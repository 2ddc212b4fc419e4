"""Database sessions that carry their user's id (Django's documented extension of the
database backend), so that `end_sessions` can end every session of an account at once.
Sessions live in the database, so any app server serves any session (docs/deploy.md)."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.contrib import auth
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.exceptions import SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from dsr.core.compiled import Compiled

# The row, its user and its authenticator: every signed-in page reads it first (ADR 0029).
_ROW = Compiled(
    lambda key: (
        apps.get_model("accounts", "UserSession")
        .objects.select_related("user", "device")
        .filter(session_key=key)
    ),
    str,
)


class SessionStore(DBStore):
    """`loaded_user` and `loaded_device`: the user the session row names and the
    authenticator that verified it, read with the row in one query, for the authentication
    and OTP middleware (dsr/accounts/backends.py); None when it names none."""

    loaded_user: Any = None
    loaded_device: Any = None

    @classmethod
    def get_model_class(cls) -> Any:
        # By name: the model names this store as its own, so neither imports the other.
        return apps.get_model("accounts", "UserSession")

    def _get_session_from_db(self) -> Any:
        # Django's own read of the row (expired or tampered sessions are none), with its
        # user and authenticator joined in: every signed-in page would otherwise read each
        # separately.
        # Expiry is checked here rather than in the SQL, so the SQL is the same every time.
        try:
            rows = _ROW(str(self.session_key))
        except SuspiciousOperation as e:
            logger = logging.getLogger(f"django.security.{e.__class__.__name__}")
            logger.warning(str(e))
            rows = []
        row = rows[0] if rows and rows[0].expire_date > timezone.now() else None
        if row is None:
            self._session_key = None
            return None
        self.loaded_user = row.user
        self.loaded_device = row.device
        return row

    def save(self, must_create: bool = False) -> None:
        # Django reads any database error while updating the row as "the session was
        # deleted meanwhile" (a 400 page, and a warning about a concurrent sign-out). A lost
        # connection or a timeout is the database failing: let it be that (the 500 page).
        try:
            super().save(must_create=must_create)
        except UpdateError as error:
            if isinstance(error.__context__, OperationalError | InterfaceError):
                raise error.__context__ from None
            raise

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        instance: Any = super().create_model_instance(data)
        user_id = data.get(auth.SESSION_KEY)
        try:
            instance.user_id = int(user_id) if user_id is not None else None
        except (TypeError, ValueError):
            instance.user_id = None
        instance.device_id = _totp_device_id(data.get(DEVICE_ID_SESSION_KEY))
        return instance


TOTP = "otp_totp.totpdevice/"


def _totp_device_id(persistent_id: Any) -> int | None:
    """The id of the authenticator app a session's persistent device id names, if it is one."""
    if isinstance(persistent_id, str) and persistent_id.startswith(TOTP):
        number = persistent_id.removeprefix(TOTP)
        if number.isascii() and number.isdigit() and len(number) < 19:
            return int(number)
    return None


def end_sessions(user_id: int, *, but: str | None = None) -> int:
    """End every session of the user now (`but` the one with that key); returns how many
    there were."""
    model = SessionStore.get_model_class()
    deleted, _ = model.objects.filter(user_id=user_id).exclude(session_key=but or "").delete()
    return int(deleted)
