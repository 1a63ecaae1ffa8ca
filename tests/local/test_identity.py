"""The local target as Azure's identity platform: azure-identity gets its tokens from the
local authority, and ARM, Batch and Blob storage check them as Azure does, while the local
target's own credentials keep working."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from azure.identity import ClientSecretCredential
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from runner.backends.credentials import NamedCredential
from runner.errors import TargetError
from runner.local.azurite import ACCOUNT_KEY
from runner.local.identity import Identity, load_identity

pytestmark = pytest.mark.integration

ARM = "https://management.azure.com"
STORAGE = "https://storage.azure.com"
BATCH = "https://batch.core.windows.net/"
AZURE_TIME = r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M"


def credential(target: dict[str, Any], secret: str | None = None) -> ClientSecretCredential:
    identity = target["identity"]
    return ClientSecretCredential(
        identity["tenant"],
        identity["client_id"],
        secret or identity["client_secret"],
        authority=identity["authority"],
        disable_instance_discovery=True,
        connection_verify=target["ca_bundle"],
    )


def platform(target: dict[str, Any]) -> Identity:
    """The platform's own signing key, to make tokens a client could not get from it."""
    return load_identity(Path(target["state_dir"]))


def unpadded(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def claims_of(token: str) -> dict[str, Any]:
    return dict(json.loads(unpadded(token.split(".")[1])))


def get(url: str, token: str, target: dict[str, Any], **headers: str) -> requests.Response:
    return requests.get(
        url,
        headers={"Authorization": f"Bearer {token}", **headers},
        verify=target["ca_bundle"],
        timeout=30,
    )


def test_azure_identity_gets_tokens_signed_by_the_key_the_authority_publishes(
    identity_target: dict[str, Any],
) -> None:
    identity = identity_target["identity"]
    named = NamedCredential(credential(identity_target), "the local service principal")
    for scope, audience in (
        (f"{ARM}/.default", ARM),
        ("https://batch.core.windows.net//.default", BATCH),
        (f"{STORAGE}/.default", STORAGE),
    ):
        token = named.get_token(scope).token
        claims = claims_of(token)
        assert claims["aud"] == audience
        assert claims["iss"] == f"https://sts.windows.net/{identity['tenant']}/"
        assert (claims["tid"], claims["appid"], claims["ver"]) == (
            identity["tenant"],
            identity["client_id"],
            "1.0",
        )
        assert claims["oid"] and claims["nbf"] <= time.time() < claims["exp"]

    discovery = (
        f"{identity['authority']}/{identity['tenant']}/v2.0/.well-known/openid-configuration"
    )
    config = requests.get(discovery, verify=identity_target["ca_bundle"], timeout=30).json()
    assert config["token_endpoint"] == (
        f"{identity['authority']}/{identity['tenant']}/oauth2/v2.0/token"
    )
    keys = requests.get(config["jwks_uri"], verify=identity_target["ca_bundle"], timeout=30)
    (jwk,) = keys.json()["keys"]
    public = rsa.RSAPublicNumbers(
        int.from_bytes(unpadded(jwk["e"]), "big"), int.from_bytes(unpadded(jwk["n"]), "big")
    ).public_key()
    head, body, signature = token.split(".")
    assert json.loads(unpadded(head))["kid"] == jwk["kid"]
    public.verify(
        unpadded(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_the_token_endpoint_refuses_as_entra_does(identity_target: dict[str, Any]) -> None:
    identity = identity_target["identity"]
    token_url = f"{identity['authority']}/{identity['tenant']}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": identity["client_id"],
        "client_secret": identity["client_secret"],
        "scope": f"{ARM}/.default",
    }

    def post(**changes: str) -> tuple[int, dict[str, Any]]:
        answer = requests.post(
            token_url, data={**form, **changes}, verify=identity_target["ca_bundle"], timeout=30
        )
        assert identity["client_secret"] not in answer.text
        return answer.status_code, answer.json()

    status, body = post(client_secret="not-the-secret")
    assert (status, body["error"], body["error_codes"]) == (401, "invalid_client", [7000215])
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert body["error_uri"] == f"{identity['authority']}/error?code=7000215"
    status, body = post(client_id=str(uuid.uuid4()))
    assert (status, body["error"], body["error_codes"]) == (400, "unauthorized_client", [700016])
    status, body = post(scope="https://vault.azure.net/.default")
    assert (status, body["error"], body["error_codes"]) == (400, "invalid_resource", [500011])
    status, body = post(scope=f"{ARM}/user_impersonation")
    assert (status, body["error"], body["error_codes"]) == (400, "invalid_scope", [1002012])
    status, body = post(grant_type="password")
    assert (status, body["error"]) == (400, "unsupported_grant_type")
    status, body = post()
    assert status == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 3599

    elsewhere = f"{identity['authority']}/{uuid.uuid4()}/v2.0/.well-known/openid-configuration"
    answer = requests.get(elsewhere, verify=identity_target["ca_bundle"], timeout=30)
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_tenant")

    # What a client sees: the credential it asked, and Entra's reason.
    named = NamedCredential(credential(identity_target, "not-the-secret"), "the test's client")
    with pytest.raises(TargetError) as raised:
        named.get_token(f"{ARM}/.default")
    message = str(raised.value)
    assert message.startswith(f"could not get a token for {ARM}/.default from the test's client")
    assert "AADSTS7000215" in message and "not-the-secret" not in message


def test_arm_refuses_the_tokens_arm_refuses(identity_target: dict[str, Any]) -> None:
    identity, keys = identity_target["identity"], platform(identity_target)
    arm = identity_target["arm"]
    groups = f"/subscriptions/{arm['subscription']}/resourcegroups?api-version=2021-04-01"
    url = arm["endpoint"] + groups
    assert get(url, keys.issue(ARM), identity_target).status_code == 200
    assert get(url, keys.issue("https://management.core.windows.net/"), identity_target).ok
    # Not a JWT: the local target's own credential, accepted as ever.
    assert get(url, "runner-local-token", identity_target).status_code == 200

    def refused(token: str) -> tuple[str, str]:
        answer = get(url, token, identity_target)
        assert answer.status_code == 401
        assert answer.headers["x-ms-failure-cause"] == "gateway"
        error = answer.json()["error"]
        assert answer.headers["WWW-Authenticate"] == (
            f'Bearer authorization_uri="{identity["authority"]}/{identity["tenant"]}", '
            f'error="invalid_token", error_description="{error["message"]}"'
        )
        return error["code"], error["message"]

    code, message = refused(keys.issue(STORAGE))
    assert code == "InvalidAuthenticationTokenAudience"
    assert message.startswith(
        f"The access token has been obtained for wrong audience or resource '{STORAGE}'."
    )
    code, message = refused(keys.issue(ARM, lifetime=60, now=time.time() - 3600))
    assert code == "ExpiredAuthenticationToken"
    assert re.fullmatch(
        f"The access token expiry UTC time '{AZURE_TIME}' is earlier than current UTC time "
        f"'{AZURE_TIME}'.",
        message,
    )
    head, body, signature = keys.issue(ARM).split(".")
    tampered = f"{head}.{body}.{signature[:-4]}AAAA"
    assert refused(tampered) == ("InvalidAuthenticationToken", "The access token is invalid.")
    stranger = Identity(
        keys.tenant,
        keys.client_id,
        "",
        keys.object_id,
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )
    assert refused(stranger.issue(ARM))[0] == "InvalidAuthenticationToken"


def test_batch_takes_entra_tokens_and_refuses_the_ones_batch_refuses(
    identity_target: dict[str, Any],
) -> None:
    from azure.batch import BatchClient

    batch, keys = identity_target["batch"], platform(identity_target)
    client = BatchClient(
        batch["url"], credential(identity_target), connection_verify=identity_target["ca_bundle"]
    )
    assert isinstance(list(client.list_pools()), list)

    url = f"{batch['url']}/pools?api-version=2024-07-01.20.0"

    def detail(token: str) -> str:
        answer = get(url, token, identity_target)
        assert answer.status_code == 401
        body = answer.json()
        assert body["code"] == "AuthenticationFailed"
        assert body["message"]["value"].startswith(
            "Server failed to authenticate the request. Make sure the value of Authorization "
            "header is formed correctly.\nRequestId:"
        )
        (value,) = [v["value"] for v in body["values"] if v["key"] == "AuthenticationErrorDetail"]
        return str(value)

    assert detail(keys.issue(ARM)) == (
        f"The access token has been obtained from wrong audience or resource '{ARM}'. It "
        f"should exactly match (including forward slash) with one of the allowed audiences "
        f"'{BATCH}'"
    )
    assert re.fullmatch(
        f"The access token expiry UTC time '{AZURE_TIME}' is earlier than current UTC time "
        f"'{AZURE_TIME}'.",
        detail(keys.issue(BATCH, lifetime=60, now=time.time() - 3600)),
    )
    # Batch takes no other bearer token: shared key, as before.
    assert get(url, "runner-local-token", identity_target).status_code == 403


def test_azurite_takes_tokens_and_hands_out_user_delegation_keys_over_https(
    identity_target: dict[str, Any],
) -> None:
    from azure.storage.blob import BlobServiceClient

    from runner.backends.sas import signer_for

    storage, keys = identity_target["storage"], platform(identity_target)
    assert storage["oauth"] and storage["blob_endpoint"].startswith("https://")
    ca = identity_target["ca_bundle"]
    service = BlobServiceClient(
        storage["blob_endpoint"], credential=credential(identity_target), connection_verify=ca
    )
    name = f"id-{uuid.uuid4().hex[:12]}"
    service.create_container(name).upload_blob("a.txt", b"hello")
    expiry = datetime.now(UTC) + timedelta(hours=1)

    delegated = signer_for(service, None, expiry)
    assert delegated.delegation_key is not None
    claims = claims_of(keys.issue(STORAGE))
    assert (delegated.delegation_key.signed_oid, delegated.delegation_key.signed_tid) == (
        claims["oid"],
        claims["tid"],
    )
    url = delegated.read_blob(name, "a.txt")
    assert "skoid=" in url and "spr=https" in url
    # Azurite 3.35 checks a user delegation SAS in its 2025-11-05 form, and azure-storage-blob
    # signs the 2026-10-06 one: Azurite refuses it (DEVIATIONS.md). Account-key SAS pass.
    read = requests.get(url, verify=ca, timeout=30)
    assert (read.status_code, read.headers["x-ms-error-code"]) == (403, "AuthorizationFailure")
    keyed = signer_for(service, ACCOUNT_KEY, expiry)
    read = requests.get(keyed.read_blob(name, "a.txt"), verify=ca, timeout=30)
    assert (read.status_code, read.content) == (200, b"hello")
    # The connection string's shared key still works, now over HTTPS.
    shared = BlobServiceClient.from_connection_string(
        storage["connection_string"], connection_verify=ca
    )
    assert shared.get_container_client(name).download_blob("a.txt").readall() == b"hello"

    def refusal(token: str) -> str:
        answer = get(
            f"{storage['blob_endpoint']}?comp=list",
            token,
            identity_target,
            **{"x-ms-version": "2021-08-06"},
        )
        assert (answer.status_code, answer.headers["x-ms-error-code"]) == (
            403,
            "AuthenticationFailed",
        )
        return answer.text

    assert "The token is expired." in refusal(
        keys.issue(STORAGE, lifetime=60, now=time.time() - 3600)
    )
    assert "Invalid token audience." in refusal(keys.issue(ARM))
