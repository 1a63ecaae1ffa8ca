"""A container group reaches the local target's Blob endpoint at the SAS URLs runner signs.

As on Azure, where a group's container fetches ``https://<account>.blob.core.windows.net``
URLs: here the URL names ``https://127.0.0.1:<port>``, which inside the group's own network
namespace leads to the host's Azurite, whose certificate the container trusts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from runner_cli import runner

from runner.backends.blob_store import blob_store
from runner.backends.target import local_target

# Lower-cases the text at the read URL and puts it at the write URL, as a workflow step's
# container does with the URLs it is handed.
LOWER = (
    'curl -fsS "$RUNNER_IN_URL?$RUNNER_IN_SAS" | tr A-Z a-z'
    ' | curl -fsS -X PUT -H "x-ms-blob-type: BlockBlob" --data-binary @-'
    ' "$RUNNER_OUT_URL/$(basename "$RUNNER_IN_URL")?$RUNNER_OUT_SAS"'
)


@pytest.fixture(scope="module")
def https_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A local target whose Azurite serves HTTPS, with Docker groups."""
    from runner.backends import local_target as target_process

    state = tmp_path_factory.mktemp("https-target")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNNER_LOCAL_BLOB_OAUTH", "1")
        patch.setenv("RUNNER_LOCAL_RUNTIME", "docker")
        status = target_process.up(state)
    yield status
    target_process.down(state, purge=True)


def test_a_groups_container_reads_and_writes_blobs_at_the_sas_urls_runner_signs(
    https_target: dict[str, Any],
    tools_image: str,
    tmp_path: Path,
    unique_name: Callable[[str], str],
) -> None:
    from azure.storage.blob import BlobServiceClient

    status = https_target
    assert status["storage"]["blob_endpoint"].startswith("https://127.0.0.1:")
    service = BlobServiceClient.from_connection_string(
        status["storage"]["connection_string"], connection_verify=status["ca_bundle"]
    )
    source, dest = unique_name("texts"), unique_name("lower")
    service.create_container(source)
    service.create_container(dest)
    service.get_blob_client(source, "a.txt").upload_blob(b"Hello WORLD, 42!\n")
    signer = blob_store(local_target(status), status["storage"]["account"]).signer(
        datetime.now(UTC) + timedelta(minutes=10)
    )
    read_url, _, read_sas = signer.read_blob(source, "a.txt").partition("?")
    write_url, _, write_sas = signer.write_container(dest).partition("?")
    secure = {
        "RUNNER_IN_URL": read_url,
        "RUNNER_IN_SAS": read_sas,
        "RUNNER_OUT_URL": write_url,
        "RUNNER_OUT_SAS": write_sas,
    }
    name = unique_name("lower")
    spec = tmp_path / "lower.yaml"
    # JSON is YAML: the SAS values go in quoted as they are.
    spec.write_text(
        json.dumps(
            {
                "kind": "ContainerGroup",
                "name": name,
                "resourceGroup": unique_name("reach-rg"),
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "lower",
                        "image": tools_image,
                        "memoryInGB": 0.5,
                        "command": ["sh", "-c", LOWER],
                        "secureEnv": secure,
                    }
                ],
                "collect": {"logs": True, "dir": str(tmp_path / "out")},
            }
        )
    )
    env = {**os.environ, "RUNNER_TARGET": "local", "RUNNER_LOCAL_DIR": status["state_dir"]}

    run = runner(env, tmp_path, "apply", str(spec), "--yes", "--workspace", unique_name("ws"))

    assert run.returncode == 0, run.stdout + run.stderr
    written = service.get_blob_client(dest, "a.txt").download_blob().readall()
    assert written == b"hello world, 42!\n"
