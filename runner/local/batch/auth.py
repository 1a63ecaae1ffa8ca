"""Shared-key signatures, the identity platform's bearer tokens and api-versions, checked as
the Batch service checks them.

The string to sign mirrors what azure-batch 15 signs (``BatchSharedKeyAuthPolicy`` in
``azure/batch/_patch.py``): the verb; eleven standard headers, where a bodiless request
other than GET/HEAD is signed with Content-Length ``0``; the ``ocp-*`` headers sorted by
name; ``/<account><path>`` with the path percent-encoded as sent; then each query
parameter, name case kept, first value URL-decoded, empty values left out. azure-batch 11's
msrest ``SharedKeyAuth`` (``azure/batch/batch_auth.py``) builds the same string: requests sends
a bodiless write with Content-Length ``0`` too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qs, urlsplit

from runner.local.batch import versions
from runner.local.batch.errors import BatchServiceError
from runner.local.identity import BATCH_AUDIENCES, Identity, TokenRejected, azure_time, is_jwt

SIGNED_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


def string_to_sign(method: str, raw_uri: str, headers: Mapping[str, str], account: str) -> str:
    lowered = {k.lower(): v for k, v in headers.items() if v}
    if method not in ("GET", "HEAD") and "content-length" not in lowered:
        lowered["content-length"] = "0"
    parts = [method, *(lowered.get(name, "") for name in SIGNED_HEADERS)]
    text = "\n".join(parts) + "\n"
    for name, value in sorted((k, v) for k, v in lowered.items() if "ocp-" in k):
        text += f"{name}:{value}\n"
    url = urlsplit(raw_uri)
    text += f"/{account}{url.path}"
    query = parse_qs(url.query)
    for name in sorted(query):
        value = query[name][0]
        if value:
            text += f"\n{name}:{value}"
    return text


def sign(text: str, key: str) -> str:
    digest = hmac.new(base64.b64decode(key), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(
    method: str,
    raw_uri: str,
    headers: Mapping[str, str],
    account: str,
    key: str,
    identity: Identity | None = None,
) -> None:
    """Raises ``AuthenticationFailed`` unless the request is signed with ``account``'s key
    or carries a token of ``identity`` (the local identity platform) for Batch."""
    authorization = headers.get("Authorization") or headers.get("authorization") or ""
    scheme, _, credential = authorization.partition(" ")
    if scheme.lower() == "bearer" and identity is not None and is_jwt(credential.strip()):
        check_token(identity, credential.strip())
        return
    if scheme != "SharedKey" or ":" not in credential:
        raise BatchServiceError(
            "AuthenticationFailed",
            AuthenticationErrorDetail="The Authorization header is missing or is not a "
            "SharedKey signature.",
        )
    name, _, signature = credential.partition(":")
    if name != account:
        raise BatchServiceError(
            "AuthenticationFailed",
            AuthenticationErrorDetail=f"The account name {name!r} in the Authorization header "
            f"does not match the account {account!r}.",
        )
    text = string_to_sign(method, raw_uri, headers, account)
    if not hmac.compare_digest(sign(text, key), signature):
        raise BatchServiceError(
            "AuthenticationFailed",
            AuthenticationErrorDetail=f"The MAC signature found in the HTTP request "
            f"'{signature}' is not the same as any computed signature. Server used following "
            f"string to sign: '{text}'.",
        )


# Batch's answer to a refused Entra token: 401, where a bad shared key gets 403.
TOKEN_REFUSED = (
    "Server failed to authenticate the request. Make sure the value of Authorization header "
    "is formed correctly."
)


def check_token(identity: Identity, token: str) -> None:
    try:
        identity.check(token, BATCH_AUDIENCES)
    except TokenRejected as rejected:
        if rejected.reason == "audience":
            allowed = ",".join(f"'{audience}'" for audience in BATCH_AUDIENCES)
            detail = (
                f"The access token has been obtained from wrong audience or resource "
                f"'{rejected.audience}'. It should exactly match (including forward slash) "
                f"with one of the allowed audiences {allowed}"
            )
        elif rejected.reason == "expired":
            detail = (
                f"The access token expiry UTC time '{azure_time(rejected.expiry)}' is earlier "
                f"than current UTC time '{azure_time(rejected.now)}'."
            )
        else:
            detail = "The access token is invalid."
        error = BatchServiceError(
            "AuthenticationFailed", TOKEN_REFUSED, AuthenticationErrorDetail=detail
        )
        error.status = 401
        raise error from None


def check_api_version(query: Mapping[str, str]) -> str:
    return versions.check(query.get("api-version"))
