"""The azure target's settings (endpoints, token audiences, credential names) and how a
refused credential is reported, whichever service refused it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from runner.backends.credentials import azure_credential, read_auth_file
from runner.backends.target import _adapter, azure_target, local_target
from runner.errors import TargetError

SETTINGS = (
    "AZURE_AUTH_LOCATION",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    "AZURE_AUTHORITY_HOST",
    "AZURE_STORAGE_CONNECTION_STRING",
    "RUNNER_AZURE_ARM_ENDPOINT",
    "RUNNER_AZURE_ARM_AUDIENCE",
    "RUNNER_AZURE_BLOB_ENDPOINT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


def test_public_azure_is_the_default() -> None:
    target = azure_target()
    assert target._arm_kwargs()["credential_scopes"] == ["https://management.azure.com/.default"]
    assert target.blob_service("acct").url == "https://acct.blob.core.windows.net/"
    assert target.credential().description == (
        "DefaultAzureCredential (environment, managed identity, Azure CLI, ...)"
    )


def test_endpoints_and_the_arm_audience_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNNER_AZURE_ARM_ENDPOINT", "https://management.chinacloudapi.cn/")
    monkeypatch.setenv("RUNNER_AZURE_BLOB_ENDPOINT", "https://{account}.blob.core.chinacloudapi.cn")
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", "https://login.chinacloudapi.cn")
    target = azure_target()
    arm = target._arm_kwargs()
    assert arm["base_url"] == "https://management.chinacloudapi.cn"
    assert arm["credential_scopes"] == ["https://management.chinacloudapi.cn/.default"]
    assert target.blob_service("acct").url == "https://acct.blob.core.chinacloudapi.cn/"
    monkeypatch.setenv("RUNNER_AZURE_ARM_AUDIENCE", "https://management.core.windows.net/")
    assert azure_target()._arm_kwargs()["credential_scopes"] == [
        "https://management.core.windows.net//.default"
    ]


def test_the_auth_file_names_the_arm_audience_as_the_samples_read_it(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    base = {"clientId": "c", "clientSecret": "s", "tenantId": "t"}
    path.write_text(json.dumps({**base, "resourceManagerEndpointUrl": "https://arm.local/"}))
    assert read_auth_file(path).arm_audience == "https://arm.local/"
    path.write_text(
        json.dumps(
            {
                **base,
                "resourceManagerEndpointUrl": "https://arm.local/",
                "activeDirectoryResourceId": "https://management.core.windows.net/",
                "activeDirectoryEndpointUrl": "https://login.local:8443",
            }
        )
    )
    parsed = read_auth_file(path)
    assert (parsed.arm_endpoint, parsed.arm_audience, parsed.authority_host) == (
        "https://arm.local",
        "https://management.core.windows.net/",
        "login.local:8443",
    )
    assert azure_credential(parsed).description == (
        f"the service principal c of the auth file {path} (AZURE_AUTH_LOCATION; tenant t, "
        "authority login.local:8443)"
    )


class Refusing(BaseHTTPRequestHandler):
    """Answers 401 with Storage's challenge, or the error body a test puts in ``answer``."""

    answer: tuple[int, dict[str, str], bytes] = (200, {}, b"")

    def do_GET(self) -> None:
        status, headers, body = self.answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def session() -> requests.Session:
    client = requests.Session()
    client.mount("http://", _adapter(None, "Blob storage", "the test's token"))
    return client


def test_a_challenge_the_sdk_follows_passes_once_then_the_credential_is_named(
    server: str,
) -> None:
    challenge = (
        "Bearer authorization_uri=https://login.microsoftonline.com/t/oauth2/authorize "
        "resource_id=https://storage.azure.com"
    )
    body = (
        b'<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidAuthenticationInfo</Code>'
        b"<Message>Server failed to authenticate the request.\nRequestId:1</Message>"
        b"<AuthenticationErrorDetail>Lifetime validation failed. The token is expired."
        b"</AuthenticationErrorDetail></Error>"
    )
    Refusing.answer = (401, {"WWW-Authenticate": challenge}, body)
    client = session()
    assert client.get(f"{server}/c?comp=list").status_code == 401
    with pytest.raises(TargetError) as raised:
        client.get(f"{server}/c?comp=list")
    assert str(raised.value) == (
        f"Blob storage at {server} refused the test's token: 401 InvalidAuthenticationInfo: "
        "Server failed to authenticate the request. Lifetime validation failed. The token is "
        "expired."
    )


def test_a_403_for_missing_permissions_is_no_refused_credential_and_a_bare_401_is_one(
    server: str,
) -> None:
    error = {"error": {"code": "AuthorizationFailed", "message": "no role assignment"}}
    Refusing.answer = (403, {"Content-Type": "application/json"}, json.dumps(error).encode())
    assert session().get(f"{server}/x").status_code == 403
    error = {"error": {"code": "AuthenticationFailed", "message": "bad key"}}
    Refusing.answer = (403, {"Content-Type": "application/json"}, json.dumps(error).encode())
    with pytest.raises(TargetError, match="refused the test's token: 403 AuthenticationFailed"):
        session().get(f"{server}/x")
    for body in (b"", b"<html><body>denied"):
        Refusing.answer = (401, {}, body)
        with pytest.raises(TargetError) as raised:
            session().get(f"{server}/x")
        assert str(raised.value).endswith("refused the test's token: 401 Unauthorized")


@pytest.mark.integration
def test_a_wrong_key_for_the_local_target_is_named_too(emulator: dict[str, Any]) -> None:
    status = json.loads(json.dumps(emulator))
    wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
    status["batch"]["key"] = wrong
    connection = status["storage"]["connection_string"]
    status["storage"]["connection_string"] = connection.replace(
        connection.split("AccountKey=")[1].split(";")[0], wrong
    )
    target = local_target(status)
    with pytest.raises(TargetError) as raised:
        list(target.batch_client("local").list_pools())
    assert str(raised.value).startswith(
        f"Batch at {emulator['batch']['url']} refused the shared key of Batch account local: "
        "403 AuthenticationFailed: Server failed to authenticate the request."
    )
    with pytest.raises(TargetError) as raised:
        list(target.blob_service("local").list_containers())
    origin = "/".join(emulator["storage"]["blob_endpoint"].split("/")[:3])
    assert str(raised.value).startswith(
        f"Blob storage at {origin} refused the account key of the storage connection string: "
        "403 AuthorizationFailure: Server failed to authenticate the request."
    )
