"""The model backend and the OTP middleware, given the user and the authenticator the
session row was read with (one query, not three).

Every signed-in page needs its user. The session store reads the session row with its user
joined in (dsr/accounts/sessions.py `loaded_user`); while the authentication middleware
asks Django for the request's user, this backend hands Django that user instead of reading
it again. Everything else is Django's own: `auth.get_user` checks the session's backend and
its password hash, and `user_can_authenticate` refuses an inactive account, exactly as
for a user read by id.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware

# Set only while `_user` runs: nothing carries from one request to the next.
_LOADED: ContextVar[Any] = ContextVar("dsr_session_user", default=None)


class SessionUserBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        loaded = _LOADED.get()
        if loaded is not None and loaded.pk == user_id:
            return loaded if self.user_can_authenticate(loaded) else None
        return super().get_user(user_id)


def _user(request: HttpRequest) -> Any:
    session = request.session
    session.get(auth.SESSION_KEY)  # the session is read when first asked: read it now
    token = _LOADED.set(getattr(session, "loaded_user", None))
    try:
        return auth.get_user(request)
    finally:
        _LOADED.reset(token)


class SessionUserMiddleware(AuthenticationMiddleware):
    """Django's authentication middleware, with the session's user already read."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _user(request))  # type: ignore[assignment]


class SessionDeviceMiddleware(OTPMiddleware):
    """django-otp's middleware, given the authenticator the session row was read with
    when it is the one the session names. django-otp's own checks still decide: the device
    must be the user's and confirmed, or the session is not verified (`_finalize_device`)."""

    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        self._init_user_fields(user)
        if user.is_authenticated:
            named = request.session.get(DEVICE_ID_SESSION_KEY)
            loaded = getattr(request.session, "loaded_device", None)
            if not named:
                device = None
            elif loaded is not None and self._normalize_persistent_id(named) == (
                loaded.persistent_id
            ):
                device = loaded
            else:
                device = self._device_from_persistent_id(named)
            user.otp_device = self._finalize_device(request, user, device)
        return user
