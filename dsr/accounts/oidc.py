"""NHS sign-in by OpenID Connect: Care Identity Service 2 and Microsoft Entra ID (NHSmail),
with Authlib, a maintained client library (ADR 0017).

Providers come from the environment (settings.OIDC_PROVIDERS, README "Settings"). CIS2
authenticates this service to its token endpoint with `private_key_jwt` (a short-lived
assertion signed with our private key); Entra ID with a client secret. Authlib checks the
ID token's signature against the provider's published keys, its issuer, audience, expiry
and nonce, and the state bound to this browser's session; what it refuses is sorted here
into a reason a person can read and an audit can count.

Only invited users sign in this way: an account is found by its (issuer, subject) alone,
linked once through the user's own invitation or set-up link; an email the provider asserts
never finds or makes an account (no self-provisioning).

Authlib (with requests and joserfc) is imported only when someone signs in this way: an app
server of a place without a provider never loads it (each worker's memory is a bench target).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dsr.accounts.models import EnrolmentLink, ExternalIdentity, User
from dsr.core import audit
from dsr.core.models import AuditAction

# How long our client assertion (private_key_jwt) may be used: CIS2 asks for minutes.
ASSERTION_SECONDS = 300


@dataclass(frozen=True)
class Provider:
    key: str  # "cis2", "entra": in the address and the audit trail
    label: str  # what the button says
    issuer: str
    client_id: str
    client_secret: str = ""
    private_key: str = ""  # PEM, for private_key_jwt
    key_id: str = ""
    scopes: str = "openid email profile"
    acr_values: str = ""  # asked for, when the provider supports assurance levels
    mfa_amr: frozenset[str] = frozenset()  # `amr` values that mean multi-factor
    mfa_acr: frozenset[str] = frozenset()  # `acr` values that mean multi-factor
    timeout: float = 10.0

    @property
    def auth_method(self) -> str:
        return "private_key_jwt" if self.private_key else "client_secret_post"

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def providers() -> dict[str, Provider]:
    """The identity providers this server is configured for (none: password + TOTP only)."""
    found = {}
    for key, config in getattr(settings, "OIDC_PROVIDERS", {}).items():
        found[key] = Provider(
            key=key,
            label=config["label"],
            issuer=config["issuer"],
            client_id=config["client_id"],
            client_secret=config.get("client_secret", ""),
            private_key=config.get("private_key", ""),
            key_id=config.get("key_id", ""),
            scopes=config.get("scopes") or "openid email profile",
            acr_values=config.get("acr_values", ""),
            mfa_amr=frozenset(config.get("mfa_amr", ())),
            mfa_acr=frozenset(config.get("mfa_acr", ())),
            timeout=float(config.get("timeout", 10)),
        )
    return found


def _private_key_jwt(key_id: str) -> Any:
    """private_key_jwt with a short expiry, RS512, and our key's id in the header."""
    from authlib.oauth2.rfc7523 import PrivateKeyJWT
    from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
    from joserfc.jwk import RSAKey

    class ShortLived(PrivateKeyJWT):  # type: ignore[misc]
        alg = "RS512"

        def sign(self, auth: Any, token_endpoint: str) -> Any:
            return private_key_jwt_sign(
                RSAKey.import_key(auth.client_secret),
                client_id=auth.client_id,
                token_endpoint=token_endpoint,
                header=self.headers,
                alg=self.alg,
                expires_at=int(time.time()) + ASSERTION_SECONDS,
            )

    return ShortLived(headers={"kid": key_id} if key_id else None)


def client(provider: Provider) -> Any:
    """An Authlib client for the provider. Made per sign-in: the provider's metadata and
    keys are read afresh each time, so a key rotation at the provider is seen at once."""
    from authlib.integrations.django_client import OAuth

    oauth = OAuth()
    kwargs: dict[str, Any] = {
        "scope": provider.scopes,
        "token_endpoint_auth_method": provider.auth_method,
        "timeout": provider.timeout,
        "code_challenge_method": "S256",
    }
    methods = None
    secret = provider.client_secret
    if provider.private_key:
        secret = provider.private_key
        methods = [_private_key_jwt(provider.key_id)]
    oauth.register(
        name=provider.key,
        client_id=provider.client_id,
        client_secret=secret,
        server_metadata_url=provider.metadata_url,
        client_kwargs=kwargs,
        client_auth_methods=methods,
    )
    return oauth.create_client(provider.key)


def start(request: HttpRequest, provider: Provider, redirect_uri: str) -> HttpResponse:
    """Send the browser to the provider; state, nonce and PKCE verifier stay in this
    session (the database). Refused when the provider cannot be reached."""
    extra = {"acr_values": provider.acr_values} if provider.acr_values else {}
    try:
        response: HttpResponse = client(provider).authorize_redirect(request, redirect_uri, **extra)
    except Exception as error:  # noqa: BLE001 - sorted into a reason, as at the callback
        raise _refusal(error, provider) from error
    return response


class Refused(Exception):
    """The provider's answer was not good enough to sign anyone in."""

    def __init__(self, reason: str, message: str, user: User | None = None) -> None:
        super().__init__(reason)
        self.reason = reason  # for the audit trail
        self.message = message  # for the person
        self.user = user  # the account it concerns, when the register knows it (ADR 0031)


UNREACHABLE = (
    "We could not reach {label}. Try again in a few minutes, or sign in with your password"
)
PASSWORD_FIRST = (
    "This account has a password. Sign in with your email address and password first;"
    " you can then use {label} to set it up"
)
NOT_FOR_US = "{label} sent a sign-in that was not meant for this service. Try again"
NOT_SIGNED_IN = "{label} did not sign you in. Try again"
# An error code as OAuth 2.0 allows one (RFC 6749, 4.1.2.1: printable ASCII but " and \).
# The callback's query string is anyone's to write, so nothing else of it is recorded, and
# nothing of it is shown: a description the provider did not send, on this service's own
# page, could tell a person anything ("call this number").
ERROR_CODE = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}")


def _refusal(error: Exception, provider: Provider) -> Refused:
    from authlib.integrations.base_client import MismatchingStateError, OAuthError
    from joserfc.errors import (
        BadSignatureError,
        ExpiredTokenError,
        InvalidClaimError,
        InvalidKeyIdError,
        JoseError,
        MissingClaimError,
    )
    from requests import RequestException

    label = provider.label
    if isinstance(error, MismatchingStateError):
        return Refused(
            "state did not match this browser's sign-in",
            "This sign-in was started in another browser or has expired. Start again",
        )
    if isinstance(error, OAuthError):
        code = error.error if ERROR_CODE.fullmatch(str(error.error or "")) else "not a valid code"
        return Refused(f"provider error: {code}", NOT_SIGNED_IN.format(label=label))
    if isinstance(error, InvalidClaimError | MissingClaimError):
        claim = getattr(error, "claim", "") or ""
        reasons = {"aud": "wrong audience", "iss": "wrong issuer", "nonce": "wrong nonce"}
        reason = reasons.get(claim, f"invalid claim {claim}")
        return Refused(reason, NOT_FOR_US.format(label=label))
    if isinstance(error, ExpiredTokenError):
        return Refused("expired ID token", NOT_FOR_US.format(label=label))
    if isinstance(error, BadSignatureError | InvalidKeyIdError):
        return Refused("bad signature", NOT_FOR_US.format(label=label))
    if isinstance(error, JoseError):
        return Refused(f"invalid ID token: {error.error}", NOT_FOR_US.format(label=label))
    if isinstance(error, RequestException):
        return Refused("provider unreachable", UNREACHABLE.format(label=label))
    if isinstance(error, ValueError | KeyError | TypeError | RuntimeError):
        # A malformed answer (metadata without keys, a token response without a token...).
        return Refused(f"malformed answer: {type(error).__name__}", NOT_FOR_US.format(label=label))
    raise error


@dataclass(frozen=True)
class Answer:
    """Who the provider says signed in, and how."""

    issuer: str
    subject: str
    email: str
    amr: tuple[str, ...]
    acr: str

    def multi_factor(self, provider: Provider) -> bool:
        return bool(set(self.amr) & provider.mfa_amr) or self.acr in provider.mfa_acr

    def mfa_record(self, provider: Provider) -> dict[str, object]:
        return {"provider": provider.key, "amr": list(self.amr), "acr": self.acr}


def finish(request: HttpRequest, provider: Provider) -> Answer:
    """Exchange the code and check the ID token; Refused when anything is wrong."""
    try:
        token = client(provider).authorize_access_token(
            request,
            claims_options={
                "iss": {"essential": True, "values": [provider.issuer]},
                "aud": {"essential": True, "values": [provider.client_id]},
                "sub": {"essential": True},
            },
            leeway=60,
        )
    except Exception as error:  # noqa: BLE001 - every failure is sorted into a reason
        raise _refusal(error, provider) from error
    claims = token.get("userinfo")
    if not claims:  # no ID token, or no nonce: never trust an access token alone
        raise Refused("no ID token", NOT_FOR_US.format(label=provider.label))
    amr = claims.get("amr") or []
    return Answer(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=str(claims.get("email") or claims.get("preferred_username") or "")[:254],
        amr=tuple(str(v) for v in (amr if isinstance(amr, list) else [amr])),
        acr=str(claims.get("acr") or ""),
    )


UNKNOWN_USER = (
    "Your {label} account is not linked to this register. Only people invited by their "
    "place can sign in: open the invitation email you were sent, or ask your place admin "
    "for an invitation"
)


def account_for(
    request: HttpRequest,
    answer: Answer,
    provider: Provider,
    link_id: int | None,
    *,
    password_of: int | None = None,
) -> User:
    """The account this identity signs in to: linked before, or linked now through the
    user's own unused invitation or set-up link (this session's). Refused otherwise.

    A link alone links an identity only to an account with no password (an invitation: the
    identity stands in for the password). An account with a password links one only once
    its password was given in this session (`password_of`, the account it proved): else a
    reset link, intercepted on its way, would hand the account to anyone's NHS identity
    (found by an attack on step 5)."""
    with transaction.atomic():
        identity = (
            ExternalIdentity.objects.select_for_update()
            .select_related("user")
            .filter(issuer=answer.issuer, subject=answer.subject)
            .first()
        )
        if identity is not None:
            if not identity.user.is_active:
                raise Refused(
                    "account deactivated",
                    UNKNOWN_USER.format(label=provider.label),
                    user=identity.user,
                )
            identity.last_used_at = timezone.now()
            identity.save(update_fields=["last_used_at"])
            return identity.user
        link = (
            EnrolmentLink.objects.select_related("user")
            .filter(pk=link_id, used_at__isnull=True, expires_at__gt=timezone.now())
            .first()
            if link_id is not None
            else None
        )
        if link is None or not link.user.is_active:
            raise Refused("unknown user", UNKNOWN_USER.format(label=provider.label))
        if link.user.has_usable_password() and password_of != link.user.pk:
            raise Refused(
                "set-up link used without the account's password",
                PASSWORD_FIRST.format(label=provider.label),
                user=link.user,
            )
        if ExternalIdentity.objects.filter(user=link.user, issuer=answer.issuer).exists():
            raise Refused(
                "account already linked to another identity",
                f"This account is already linked to another {provider.label} identity",
            )
        try:
            with transaction.atomic():
                ExternalIdentity.objects.create(
                    user=link.user,
                    provider=provider.key,
                    issuer=answer.issuer,
                    subject=answer.subject,
                    last_used_at=timezone.now(),
                )
        except IntegrityError:
            raise Refused(
                "identity linked concurrently", UNKNOWN_USER.format(label=provider.label)
            ) from None
        audit.record(
            context=audit.Context(
                actor=link.user,
                place_id=None,
                request_id=getattr(request, "request_id", ""),
                actor_label=link.user.email,
            ),
            action=AuditAction.CREATED,
            object_type="ExternalIdentity",
            object_id=link.user.pk,
            changes={"provider": provider.key},
        )
        return link.user
