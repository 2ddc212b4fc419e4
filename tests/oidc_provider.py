"""A real OpenID Connect provider for the tests, on a free port of localhost.

oidc-provider-mock is Authlib's own authorization server with a sign-in form. Two things a
real NHS provider has are added here: `private_key_jwt` client authentication (CIS2 asks
for it; the provider verifies our signed assertion with our public key, and refuses a
client secret), and a way to misbehave, so that the refusals are tested against real
tokens: an ID token for another audience, from another issuer, with another nonce, or
signed with a key the provider does not publish. The provider's page loads a stylesheet
from a CDN; it is dropped, so that no test makes a request off the machine.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import flask
import oidc_provider_mock
import requests
import werkzeug.serving
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from joserfc.jws import JWSRegistry
from oidc_provider_mock._app import AuthorizationCodeGrant
from oidc_provider_mock._storage import Client, ClientAllowAny

# The mock's code grant accepts only client secrets at the token endpoint; ours adds CIS2's.
AuthorizationCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS = [
    "client_secret_basic",
    "client_secret_post",
    "private_key_jwt",
]
CDN_STYLESHEET = re.compile(rb"<link[^>]*cdn\.jsdelivr\.net[^>]*/>", re.S)
TAMPERING = {"audience", "issuer", "nonce", "signature", "expired"}


def _new_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


class _PrivateKeyJWT(JWTBearerClientAssertion):
    """The provider's side of private_key_jwt: our assertion, verified with our public key,
    for this token endpoint, used once."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, public_keys: dict[str, dict[str, Any]], used: list[str]) -> None:
        super().__init__(validate_jti=True)
        self.public_keys = public_keys
        self.used = used

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
        # CIS2 has clients sign with RS512, beyond joserfc's default set.
        from authlib.oauth2.rfc6749 import InvalidClientError

        try:
            token = jwt.decode(assertion, resolve_key, registry=JWSRegistry(algorithms=["RS512"]))
        except JoseError as error:
            raise InvalidClientError(description=error.description) from error
        self.verify_claims(token.claims)
        return token.claims

    def get_audiences(self) -> list[str]:
        return [flask.request.host_url.rstrip("/") + "/oauth2/token"]

    def resolve_client_public_key(self, client: Any) -> Any:
        return self.public_keys[client.id]

    def validate_jti(self, claims: Any, jti: str) -> bool:
        if jti in self.used:
            return False
        self.used.append(jti)
        return True


def _b64(part: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@dataclass
class Provider:
    """The running provider. `tamper`: how its next ID tokens go wrong (None: they don't)."""

    url: str
    app: flask.Flask
    tamper: str | None = None
    client_auth: list[str] = field(default_factory=list)  # how each token request authed
    public_keys: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return self.url

    def _storage(self) -> Any:
        with self.app.test_request_context(base_url=self.url):
            self.app.preprocess_request()
            return flask.g.oidc_provider_mock_storage

    def register_client(self, client_id: str, *, private_key: str = "", secret: str = "") -> None:
        method = "private_key_jwt" if private_key else "client_secret_post"
        if private_key:
            self.public_keys[client_id] = RSAKey.import_key(private_key).as_dict(private=False)
        self._storage().store_client(
            Client(
                id=client_id,
                secret=secret or ClientAllowAny(),
                redirect_uris=ClientAllowAny(),
                allowed_scopes=Client.SCOPES_SUPPORTED,
                token_endpoint_auth_method=method,
            )
        )

    def settings(
        self, client_id: str, *, label: str, private_key: str = "", secret: str = "", **more: Any
    ) -> dict[str, Any]:
        """What OIDC_PROVIDERS holds for this provider."""
        return {
            "label": label,
            "issuer": self.issuer,
            "client_id": client_id,
            "client_secret": secret,
            "private_key": private_key,
            "key_id": "dsr-test" if private_key else "",
            "scopes": "openid email profile",
            "timeout": 10,
            **more,
        }

    def set_user(self, sub: str, **claims: Any) -> None:
        """The person the provider knows as `sub`, with the claims it will assert."""
        response = requests.put(f"{self.url}/users/{quote(sub)}", json=claims, timeout=10)
        response.raise_for_status()

    def sign_in(self, authorize_url: str, sub: str) -> str:
        """The person signs in at the provider's form; returns where it sends the browser
        back to (our callback, with the code and state)."""
        response = requests.post(
            authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10
        )
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]


def _tampered(id_token: str, how: str, key: dict[str, Any]) -> str:
    header_part, payload_part, _signature = id_token.split(".")
    header, claims = _b64(header_part), _b64(payload_part)
    signing = RSAKey.import_key(key)
    if how == "audience":
        claims["aud"] = "another-service"
    elif how == "issuer":
        claims["iss"] = "https://issuer.invalid"
    elif how == "nonce":
        claims["nonce"] = "not-the-nonce-we-sent"
    elif how == "expired":
        claims["exp"] = claims["iat"] - 3600
    elif how == "signature":
        signing = RSAKey.generate_key(2048)  # the same key id, but not the published key
    return jwt.encode(header, claims, signing)


@contextmanager
def running() -> Iterator[Provider]:
    """Start a provider on a free port of localhost; stop it afterwards."""
    app = oidc_provider_mock.app(require_client_registration=True, require_nonce=True)
    server = werkzeug.serving.make_server("localhost", 0, app, threaded=True)
    provider = Provider(url=f"http://localhost:{server.server_port}", app=app)
    used: list[str] = []

    @app.before_request
    def _with_private_key_jwt() -> None:
        authorization = flask.g._authlib_authorization_server
        if not getattr(authorization, "_dsr_private_key_jwt", False):
            authorization.register_client_auth_method(
                "private_key_jwt", _PrivateKeyJWT(provider.public_keys, used)
            )
            authorization._dsr_private_key_jwt = True
        if flask.request.path == "/oauth2/token":
            form = flask.request.form
            provider.client_auth.append(
                "private_key_jwt" if form.get("client_assertion") else "client_secret"
            )

    @app.after_request
    def _misbehave(response: flask.Response) -> flask.Response:
        if response.mimetype == "text/html":
            response.set_data(CDN_STYLESHEET.sub(b"", response.get_data()))
        token_issued = flask.request.path == "/oauth2/token" and response.status_code == 200
        if provider.tamper and token_issued:
            body = response.get_json()
            key = flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True)
            body["id_token"] = _tampered(body["id_token"], provider.tamper, key)
            response.set_data(json.dumps(body))
        return response

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def new_private_key() -> str:
    return _new_private_key()
