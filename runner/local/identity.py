"""The local target's identity platform: an OpenID Connect authority that hands out
Entra-style access tokens through the OAuth 2.0 client-credentials grant, and the check ARM
and Batch make of them.

What MSAL (and so azure-identity's ``ClientSecretCredential``) asks of an authority at
``https://<host>/<tenant>``: the discovery document
``/<tenant>/v2.0/.well-known/openid-configuration`` (its ``token_endpoint`` above all), then a
form POST to ``/<tenant>/oauth2/v2.0/token`` with ``grant_type=client_credentials``,
``client_id``, ``client_secret`` (or HTTP Basic) and ``scope=<resource>/.default``. Instance
discovery is a call to login.microsoftonline.com that no local authority can answer: clients
turn it off for this one (azure-identity's ``disable_instance_discovery``).

Tokens are what Entra issues to a service principal for ARM, Batch and Storage (version 1.0
access tokens): RS256 JWTs, issuer ``https://sts.windows.net/<tenant>/``, audience the
resource as asked for, ``oid``/``tid``/``appid`` claims, signed by a key kept in the state
folder so that tokens stay valid across restarts. Its public half is served as a JWK set.

Which bearer tokens are checked: one that is a JWT (three base64url parts, a JSON header
naming its ``alg``) is taken for a token of this platform and checked as Azure checks it:
signature by this key, issuer, audience, lifetime. Any other bearer token is the local
target's own credential and is accepted as before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote_plus

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask, Response, request

IDENTITY_FILE = "identity.json"
KEY_FILE = "identity-key.pem"
# The tenant ARM's subscriptions name (runner.local.arm.providers), so tokens and
# subscriptions agree.
TENANT = "00000000-0000-0000-0000-000000000000"
# What Entra answers a client-credentials grant with; iat and nbf are set 5 minutes back.
TOKEN_LIFETIME = 3599
BACKDATE = 300

# Resources whose service principals every tenant has, by the audience a token names.
ARM_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)
BATCH_AUDIENCES = ("https://batch.core.windows.net/",)
STORAGE_AUDIENCES = ("https://storage.azure.com", "https://storage.azure.com/")
RESOURCES = frozenset(
    (*ARM_AUDIENCES, "https://batch.core.windows.net", *BATCH_AUDIENCES, *STORAGE_AUDIENCES)
)
_RESERVED_SCOPES = {"openid", "profile", "offline_access"}

Reason = Literal["invalid", "audience", "expired"]


class TokenRejected(Exception):
    """A JWT this platform would not have issued for the service that got it."""

    def __init__(
        self, reason: Reason, audience: str = "", expiry: float = 0.0, now: float = 0.0
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.audience = audience
        self.expiry = expiry
        self.now = now


@dataclass
class Identity:
    """One tenant with one service principal (the local target's), and the signing key."""

    tenant: str
    client_id: str
    client_secret: str
    object_id: str
    key: rsa.RSAPrivateKey = field(repr=False)
    # Set once the endpoint listens; ARM names it in its 401 challenges.
    authority: str = ""

    @property
    def issuer(self) -> str:
        return f"https://sts.windows.net/{self.tenant}/"

    @property
    def kid(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return _b64(hashlib.sha1(der).digest())

    def issue(self, resource: str, lifetime: int = TOKEN_LIFETIME, now: float | None = None) -> str:
        """An app-only access token for ``resource`` (the audience as asked for)."""
        issued = int(now if now is not None else time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5t": self.kid, "kid": self.kid}
        claims = {
            "aud": resource,
            "iss": self.issuer,
            "iat": issued - BACKDATE,
            "nbf": issued - BACKDATE,
            "exp": issued + lifetime,
            "aio": _b64(secrets.token_bytes(24)),
            "appid": self.client_id,
            "appidacr": "1",
            "idp": self.issuer,
            "idtyp": "app",
            "oid": self.object_id,
            "rh": _b64(secrets.token_bytes(12)),
            "sub": self.object_id,
            "tid": self.tenant,
            "uti": _b64(secrets.token_bytes(16)),
            "ver": "1.0",
        }
        signing_input = f"{_b64(_json(header))}.{_b64(_json(claims))}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def check(
        self, token: str, audiences: tuple[str, ...], now: float | None = None
    ) -> dict[str, Any]:
        """The claims of ``token`` if it is valid for one of ``audiences``, else
        ``TokenRejected``: signature (this key), issuer, audience, then lifetime."""
        moment = now if now is not None else time.time()
        parts = token.split(".")
        try:
            header = json.loads(_unb64(parts[0]))
            claims = json.loads(_unb64(parts[1]))
            signature = _unb64(parts[2])
        except (IndexError, ValueError) as exc:
            raise TokenRejected("invalid") from exc
        if not (isinstance(header, dict) and isinstance(claims, dict)):
            raise TokenRejected("invalid")
        if header.get("alg") != "RS256" or header.get("kid") != self.kid:
            raise TokenRejected("invalid")
        try:
            self.key.public_key().verify(
                signature,
                f"{parts[0]}.{parts[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature as exc:
            raise TokenRejected("invalid") from exc
        if claims.get("iss") != self.issuer:
            raise TokenRejected("invalid")
        audience = str(claims.get("aud", ""))
        if audience not in audiences:
            raise TokenRejected("audience", audience=audience)
        expiry, not_before = claims.get("exp"), claims.get("nbf", 0)
        if not isinstance(expiry, int | float) or not isinstance(not_before, int | float):
            raise TokenRejected("invalid")
        if not_before > moment:
            raise TokenRejected("invalid")
        if expiry <= moment:
            raise TokenRejected("expired", expiry=float(expiry), now=moment)
        return claims

    def jwk(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        size = (numbers.n.bit_length() + 7) // 8
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": _b64(numbers.n.to_bytes(size, "big")),
            "e": _b64(numbers.e.to_bytes(3, "big").lstrip(b"\0")),
            "issuer": f"{self.authority}/{self.tenant}/v2.0",
        }


def load_identity(state_dir: Path) -> Identity:
    """The state folder's tenant, service principal and signing key, made on first use."""
    state_dir.mkdir(parents=True, exist_ok=True)
    key_path, info_path = state_dir / KEY_FILE, state_dir / IDENTITY_FILE
    if not key_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(key_path, pem)
    if not info_path.exists():
        info = {
            "tenant": TENANT,
            "client_id": str(uuid.uuid4()),
            "client_secret": _b64(secrets.token_bytes(30)),
            "object_id": str(uuid.uuid4()),
        }
        _write_private(info_path, json.dumps(info, indent=2).encode())
    loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError(f"{key_path} holds no RSA key")
    info = json.loads(info_path.read_text())
    return Identity(
        info["tenant"], info["client_id"], info["client_secret"], info["object_id"], loaded
    )


def is_jwt(token: str) -> bool:
    """Whether ``token`` has a JWT's form: then it is checked as this platform's."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        header = json.loads(_unb64(parts[0]))
    except ValueError:
        return False
    return isinstance(header, dict) and "alg" in header


def azure_time(moment: float) -> str:
    """A UTC time as ARM writes it in token errors: ``3/19/2023 8:55:46 AM``."""
    when = datetime.fromtimestamp(moment, UTC)
    hour = when.hour % 12 or 12
    half = "AM" if when.hour < 12 else "PM"
    return f"{when.month}/{when.day}/{when.year} {hour}:{when:%M:%S} {half}"


# --- the endpoint -----------------------------------------------------------------------

# Entra's error answers: AADSTS code -> (HTTP status, OAuth error, description template).
ERRORS: dict[int, tuple[int, str, str]] = {
    90002: (
        400,
        "invalid_tenant",
        "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
        "and are signing into the correct cloud. Check with your subscription "
        "administrator, this may happen if there are no active subscriptions for the "
        "tenant.",
    ),
    70003: (400, "unsupported_grant_type", "The app returned an unsupported grant type."),
    900144: (
        400,
        "invalid_request",
        "The request body must contain the following parameter: '{name}'.",
    ),
    700016: (
        400,
        "unauthorized_client",
        "Application with identifier '{client}' was not found in the directory "
        "'{tenant}'. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You may "
        "have sent your authentication request to the wrong tenant.",
    ),
    7000218: (
        401,
        "invalid_client",
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'.",
    ),
    7000215: (
        401,
        "invalid_client",
        "Invalid client secret provided. Ensure the secret being sent in the request is "
        "the client secret value, not the client secret ID, for a secret added to app "
        "'{client}'.",
    ),
    1002012: (
        400,
        "invalid_scope",
        "The provided value for scope {scope} is not valid. Client credential flows "
        "must have a scope value with /.default suffixed to the resource identifier "
        "(application ID URI).",
    ),
    500011: (
        400,
        "invalid_resource",
        "The resource principal named {resource} was not found in the tenant named "
        "{tenant}. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant. You "
        "might have sent your authentication request to the wrong tenant.",
    ),
}


class _EntraError(Exception):
    def __init__(self, number: int, **fields: str) -> None:
        super().__init__(number)
        self.number = number
        self.fields = fields


def create_identity_app(identity: Identity) -> Flask:
    app = Flask("runner_identity")

    def authority() -> str:
        return request.host_url.rstrip("/")

    def known_tenant(tenant: str) -> None:
        if tenant.lower() != identity.tenant:
            raise _EntraError(90002, tenant=tenant)

    @app.get("/<tenant>/v2.0/.well-known/openid-configuration")
    def openid_configuration(tenant: str) -> Response:
        known_tenant(tenant)
        base = f"{authority()}/{identity.tenant}"
        return _json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/v2.0",
                "request_uri_parameter_supported": False,
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "claims_supported": [
                    "sub",
                    "iss",
                    "cloud_instance_name",
                    "cloud_instance_host_name",
                    "cloud_graph_host_name",
                    "msgraph_host",
                    "aud",
                    "exp",
                    "iat",
                    "auth_time",
                    "acr",
                    "nonce",
                    "preferred_username",
                    "name",
                    "tid",
                    "ver",
                    "at_hash",
                    "c_hash",
                    "email",
                ],
                "tenant_region_scope": None,
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            }
        )

    @app.get("/<tenant>/discovery/v2.0/keys")
    def keys(tenant: str) -> Response:
        known_tenant(tenant)
        return _json_response({"keys": [identity.jwk()]})

    @app.post("/<tenant>/oauth2/v2.0/token")
    def token(tenant: str) -> Response:
        known_tenant(tenant)
        form = request.form
        grant = form.get("grant_type", "")
        if not grant:
            raise _EntraError(900144, name="grant_type")
        if grant != "client_credentials":
            raise _EntraError(70003)
        client_id, secret = _client_credentials()
        if not client_id:
            raise _EntraError(900144, name="client_id")
        if client_id.lower() != identity.client_id:
            raise _EntraError(700016, client=client_id, tenant=identity.tenant)
        if not secret:
            raise _EntraError(7000218)
        if not secrets.compare_digest(secret.encode(), identity.client_secret.encode()):
            raise _EntraError(7000215, client=client_id)
        scopes = [s for s in form.get("scope", "").split() if s not in _RESERVED_SCOPES]
        if not scopes:
            raise _EntraError(900144, name="scope")
        scope = scopes[0]
        if not scope.endswith("/.default"):
            raise _EntraError(1002012, scope=scope)
        # "https://management.core.windows.net//.default" names the resource with its slash.
        resource = scope.removesuffix("/.default")
        if resource not in RESOURCES:
            raise _EntraError(500011, resource=resource, tenant=identity.tenant)
        return _json_response(
            {
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME,
                "ext_expires_in": TOKEN_LIFETIME,
                "access_token": identity.issue(resource),
            }
        )

    @app.errorhandler(_EntraError)
    def entra_error(error: _EntraError) -> Response:
        status, code, template = ERRORS[error.number]
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        text = template.format(**error.fields)
        return _json_response(
            {
                "error": code,
                "error_description": f"AADSTS{error.number}: {text}\r\nTrace ID: {trace}\r\n"
                f"Correlation ID: {correlation}\r\nTimestamp: {stamp}",
                "error_codes": [error.number],
                "timestamp": stamp,
                "trace_id": trace,
                "correlation_id": correlation,
                "error_uri": f"{authority()}/error?code={error.number}",
            },
            status,
        )

    return app


def _client_credentials() -> tuple[str, str]:
    """client_secret_post, or client_secret_basic as RFC 6749 prefers."""
    form = request.form
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            name, _, password = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return client_id, secret
        return client_id or unquote_plus(name), secret or unquote_plus(password)
    return client_id, secret


def _json_response(body: Any, status: int = 200) -> Response:
    response = Response(
        json.dumps(body), status=status, content_type="application/json; charset=utf-8"
    )
    response.headers["Cache-Control"] = "no-store, no-cache"
    response.headers["Pragma"] = "no-cache"
    return response


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(str(exc)) from exc
