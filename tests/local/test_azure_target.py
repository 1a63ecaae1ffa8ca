"""``--target azure`` end to end, against the local target posing as Azure: credentials
from its identity endpoint (``DefaultAzureCredential``'s environment credential, and the
samples' SDK auth file), its endpoints named by the environment, its CA trusted through
``REQUESTS_CA_BUNDLE``. ARM, Batch and Blob storage see Entra tokens only."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fixtures_batch import batch_client_for
from runner_cli import runner
from target_helpers import batch_spec, group_spec

from runner.local.azurite import ACCOUNT_KEY

pytestmark = pytest.mark.integration

ARM_AUDIENCE = "https://management.azure.com"


def azure_environment(target: dict[str, Any], **extra: str) -> dict[str, str]:
    """What a user exports to dry-run the azure target on the local one: no local target
    setting, no key for ARM or Batch."""
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AZURE_", "RUNNER_AZURE_", "RUNNER_LOCAL_"))
    }
    storage = target["storage"]
    blob_endpoint = storage["blob_endpoint"].rsplit("/", 1)[0] + "/{account}"
    return {
        **kept,
        "RUNNER_TARGET": "azure",
        "COLUMNS": "200",
        "REQUESTS_CA_BUNDLE": target["ca_bundle"],
        "AZURE_SUBSCRIPTION_ID": target["arm"]["subscription"],
        "AZURE_BATCH_ACCOUNT_URL": target["batch"]["url"],
        "AZURE_STORAGE_ACCOUNT": storage["account"],
        "RUNNER_AZURE_BLOB_ENDPOINT": blob_endpoint,
        **extra,
    }


def environment_credential(target: dict[str, Any], **extra: str) -> dict[str, str]:
    """DefaultAzureCredential through its EnvironmentCredential."""
    identity = target["identity"]
    settings = {
        "AZURE_CLIENT_ID": identity["client_id"],
        "AZURE_CLIENT_SECRET": identity["client_secret"],
        "AZURE_TENANT_ID": identity["tenant"],
        "AZURE_AUTHORITY_HOST": identity["authority"].removeprefix("https://"),
        "RUNNER_AZURE_ARM_ENDPOINT": target["arm"]["endpoint"],
        "RUNNER_AZURE_ARM_AUDIENCE": ARM_AUDIENCE,
    }
    return azure_environment(target, **{**settings, **extra})


def auth_file(target: dict[str, Any], folder: Path) -> dict[str, str]:
    """The samples' AZURE_AUTH_LOCATION file, as ``az ad sp create-for-rbac --sdk-auth``
    writes it (a BOM included, as on Windows), its endpoints the local target's."""
    identity = target["identity"]
    path = folder / "azure-auth.json"
    content = {
        "clientId": identity["client_id"],
        "clientSecret": identity["client_secret"],
        "subscriptionId": target["arm"]["subscription"],
        "tenantId": identity["tenant"],
        "activeDirectoryEndpointUrl": identity["authority"],
        "resourceManagerEndpointUrl": target["arm"]["endpoint"] + "/",
        "activeDirectoryResourceId": "https://management.core.windows.net/",
        "activeDirectoryGraphResourceId": "https://graph.windows.net/",
        "managementEndpointUrl": "https://management.core.windows.net/",
    }
    path.write_text(json.dumps(content, indent=2), encoding="utf-8-sig")
    env = azure_environment(target, AZURE_AUTH_LOCATION=str(path))
    del env["AZURE_SUBSCRIPTION_ID"]  # the file's
    return env


def test_a_container_group_is_applied_and_destroyed_with_entra_tokens(
    identity_target: dict[str, Any],
    tmp_path: Path,
    make_arm_client: Callable[..., Any],
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("az")
    spec = str(group_spec(tmp_path, name, "any-image:1"))
    applied = runner(environment_credential(identity_target), tmp_path, "apply", spec, "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    aci = make_arm_client(identity_target, "aci")
    group = aci.container_groups.get(f"{name}-rg", name)
    assert group.tags["managed-by"] == "runner"

    destroyed = runner(auth_file(identity_target, tmp_path), tmp_path, "destroy", spec, "--yes")
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert name not in [g.name for g in aci.container_groups.list()]


def test_a_batch_job_runs_with_entra_tokens_for_batch_and_blob_storage(
    identity_target: dict[str, Any],
    tmp_path: Path,
    unique_name: Callable[[str], str],
) -> None:
    name = unique_name("azb")
    path = batch_spec(
        tmp_path,
        name,
        "cat {{ file.name }} > {{ file.stem }}.out",
        files=2,
        teardown={"job": "never", "pool": "always", "containers": "never"},
    )
    spec = json.loads(path.read_text())
    spec["storage"] = {"account": "{{ env('AZURE_STORAGE_ACCOUNT') }}"}
    path.write_text(json.dumps(spec))
    # Azurite refuses the user delegation SAS azure-storage-blob makes (DEVIATIONS.md): the
    # tasks' SAS are signed with the account key, everything else goes by token.
    env = {**auth_file(identity_target, tmp_path), "AZURE_STORAGE_KEY": ACCOUNT_KEY}
    applied = runner(env, tmp_path, "apply", str(path), "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (tmp_path / "out" / "f0.out").read_text() == "file 0\n"
    assert (tmp_path / "out" / "f1.out").read_text() == "file 1\n"

    tasks = list(batch_client_for(identity_target).list_tasks(f"{name}-job"))
    files = [f.http_url for t in tasks for f in t.resource_files or []]
    assert files and all(u.startswith(identity_target["storage"]["blob_endpoint"]) for u in files)
    assert all("spr=https" in u for u in files)


def test_a_token_that_is_refused_or_cannot_be_had_is_named_with_its_credential(
    identity_target: dict[str, Any], tmp_path: Path, unique_name: Callable[[str], str]
) -> None:
    identity = identity_target["identity"]
    spec = str(group_spec(tmp_path, unique_name("azr"), "any-image:1"))
    wrong_audience = environment_credential(
        identity_target, RUNNER_AZURE_ARM_AUDIENCE="https://storage.azure.com"
    )
    refused = runner(wrong_audience, tmp_path, "apply", spec, "--yes")
    text = refused.stdout + refused.stderr
    assert refused.returncode == 1, text
    assert (
        f"ARM at {identity_target['arm']['endpoint']} refused the token for "
        "https://storage.azure.com/.default from DefaultAzureCredential (its "
        f"EnvironmentCredential: AZURE_CLIENT_ID {identity['client_id']}, AZURE_TENANT_ID "
        f"{identity['tenant']}, authority {identity['authority'].removeprefix('https://')}): "
        "401 InvalidAuthenticationTokenAudience: The access token has been obtained for wrong "
        "audience or resource 'https://storage.azure.com'."
    ) in " ".join(text.split())

    wrong_secret = environment_credential(
        identity_target,
        AZURE_CLIENT_SECRET="not-the-secret",
        AZURE_AUTHORITY_HOST=identity["authority"],
    )
    failed = runner(wrong_secret, tmp_path, "apply", spec, "--yes")
    text = failed.stdout + failed.stderr
    assert failed.returncode == 1, text
    flat = " ".join(text.split())
    assert f"could not get a token for {ARM_AUDIENCE}/.default from DefaultAzureCredential" in flat
    assert "AADSTS7000215: Invalid client secret provided." in flat
    assert "not-the-secret" not in text and identity["client_secret"] not in text
