"""Ownership tags round-trip; target configuration and its error messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.backends import tags
from runner.backends.credentials import read_auth_file
from runner.backends.target import azure_target, get_target
from runner.errors import TargetError


def test_tags_round_trip_and_user_tags_cannot_forge_ownership() -> None:
    written = tags.resource_tags(
        {"team": "blue", "managed-by": "someone", "runner-fp-app.X": "forged"},
        spec="web",
        workspace="demo",
        hash="abc",
        fingerprints={"app.TOKEN": "fp:1"},
    )
    assert written["managed-by"] == "runner"
    assert "runner-fp-app.X" not in written
    parsed = tags.parse(written)
    assert parsed.ownership.owned_by("demo")
    assert parsed.ownership.spec == "web" and parsed.ownership.hash == "abc"
    assert parsed.user == {"team": "blue"}
    assert parsed.fingerprints == {"app.TOKEN": "fp:1"}


def test_tag_names_are_compared_without_case() -> None:
    parsed = tags.parse({"Managed-By": "runner", "Runner-Workspace": "demo"})
    assert parsed.ownership.owned_by("demo")
    assert parsed.user == {}


def test_untagged_resource_is_not_owned() -> None:
    parsed = tags.parse(None)
    assert not parsed.ownership.owned_by("demo")
    assert parsed.ownership.describe() == "not managed by runner"


def test_auth_file_gives_credentials_subscription_and_endpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = tmp_path / "azure.json"
    auth.write_text(
        json.dumps(
            {
                "clientId": "c",
                "clientSecret": "s",
                "tenantId": "t",
                "subscriptionId": "sub-1",
                "activeDirectoryEndpointUrl": "https://login.microsoftonline.com",
                "resourceManagerEndpointUrl": "https://management.azure.com/",
            }
        )
    )
    parsed = read_auth_file(auth)
    assert parsed.authority_host == "login.microsoftonline.com"
    assert parsed.arm_endpoint == "https://management.azure.com"
    monkeypatch.setenv("AZURE_AUTH_LOCATION", str(auth))
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    target = azure_target()
    assert target.subscription_for(None) == "sub-1"
    assert target.subscription_for("from-spec") == "from-spec"


def test_auth_file_missing_fields_are_named(tmp_path: Path) -> None:
    auth = tmp_path / "azure.json"
    auth.write_text(json.dumps({"clientId": "c"}))
    with pytest.raises(TargetError, match="clientSecret, tenantId"):
        read_auth_file(auth)


def test_missing_subscription_says_where_to_put_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_AUTH_LOCATION", raising=False)
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    with pytest.raises(TargetError, match="AZURE_SUBSCRIPTION_ID"):
        azure_target().subscription_for(None)


def test_environment_subscription_wins_over_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_AUTH_LOCATION", raising=False)
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "env-sub")
    assert azure_target().subscription_for(None) == "env-sub"


def test_unknown_target_is_refused() -> None:
    with pytest.raises(TargetError, match="expected one of local, azure"):
        get_target("moon")


def test_batch_on_azure_needs_an_account_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_AUTH_LOCATION", raising=False)
    monkeypatch.delenv("AZURE_BATCH_ACCOUNT_URL", raising=False)
    with pytest.raises(TargetError, match="AZURE_BATCH_ACCOUNT_URL"):
        azure_target().batch_client("mybatch")


def test_batch_shared_key_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_AUTH_LOCATION", raising=False)
    monkeypatch.setenv("AZURE_BATCH_ACCOUNT_URL", "https://mybatch.westeurope.batch.azure.com")
    monkeypatch.setenv("AZURE_BATCH_ACCOUNT_NAME", "mybatch")
    monkeypatch.setenv("AZURE_BATCH_ACCOUNT_KEY", "a2V5")
    client = azure_target().batch_client("mybatch")
    policy = client._config.authentication_policy
    assert type(policy).__name__ == "BatchSharedKeyAuthPolicy"


def test_storage_key_is_read_from_the_connection_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_AUTH_LOCATION", raising=False)
    monkeypatch.setenv(
        "AZURE_STORAGE_CONNECTION_STRING",
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0;"
        "EndpointSuffix=core.windows.net",
    )
    target = azure_target()
    assert target.storage_account_key("acct") == "c2VjcmV0"
    assert target.blob_service("acct").account_name == "acct"
