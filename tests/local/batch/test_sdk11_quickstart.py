"""The Batch Python quickstart's flow on azure-batch 11.0.0, the version it pins.

azure-batch 11 is the msrest generation (api-version 2021-06-01.14.0, ``BatchServiceClient``
with ``SharedKeyCredentials``). It cannot share a venv with azure-batch 15, so it runs from
a venv of its own, made once under the cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``,
``runner/sdk-venvs/azure-batch-11.0.0``) and reused. ``sdk11/quickstart_flow.py`` is the
quickstart's flow, aimed at the emulator by its settings only: endpoint, account key and the
CA bundle (``REQUESTS_CA_BUNDLE``). Its input files are uploaded to Azurite here, as the
quickstart uploads them, and reach the tasks as resource files through their SAS URLs.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from batch_helpers import blob_sas_url

pytestmark = pytest.mark.integration

SDK = "azure-batch==11.0.0"
SCRIPT = Path(__file__).parent / "sdk11" / "quickstart_flow.py"
INPUT_FILES = {
    "taskdata0.txt": "Batch quickstart input, file 0\n",
    "taskdata1.txt": "Batch quickstart input, file 1\n",
    "taskdata2.txt": "Batch quickstart input, file 2\n",
}


def venv_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "runner" / "sdk-venvs" / "azure-batch-11.0.0"


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Holds an exclusive lock on ``path``: parallel test runs build the venv once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(*args: str | Path) -> None:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}", pytrace=False
        )


@pytest.fixture(scope="session")
def azure_batch_11() -> Path:
    """The interpreter of a venv holding azure-batch 11.0.0 and its dependencies only."""
    folder = venv_dir()
    python = folder / "bin" / "python"
    # Written last: a venv without it was interrupted while it was being made.
    complete = folder / ".complete"
    with locked(folder.parent / f".{folder.name}.lock"):
        if not complete.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            _run(sys.executable, "-m", "venv", folder)
            _run(
                python,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-input",
                SDK,
            )
            complete.write_text(SDK + "\n")
    return python


def test_quickstart_flow_on_azure_batch_11(
    azure_batch_11, emulator, blob_service, batch_client, unique_name, tmp_path
):
    container = unique_name("input")
    blob_service.create_container(container)
    files = []
    for name, text in INPUT_FILES.items():
        blob_service.get_blob_client(container, name).upload_blob(text.encode())
        files.append([name, blob_sas_url(blob_service, container, name)])
    pool_id, job_id = unique_name("PythonQuickstartPool"), unique_name("PythonQuickstartJob")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "BATCH_ACCOUNT_NAME": emulator["batch"]["account"],
        "BATCH_ACCOUNT_KEY": emulator["batch"]["key"],
        "BATCH_ACCOUNT_URL": emulator["batch"]["url"],
        "REQUESTS_CA_BUNDLE": emulator["ca_bundle"],
        "POOL_ID": pool_id,
        "JOB_ID": job_id,
        "INPUT_FILES": json.dumps(files),
    }

    done = subprocess.run(
        [str(azure_batch_11), "-I", str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    assert done.stderr == ""
    outputs = task_outputs(done.stdout)
    assert outputs == {f"Task{i}": text for i, text in enumerate(INPUT_FILES.values())}
    assert_gone(batch_client, pool_id, job_id)


def task_outputs(printed: str) -> dict[str, str]:
    """Each task's standard output, as the quickstart prints it after 'Printing task output'."""
    outputs = {}
    for block in printed.split("Task: ")[1:]:
        task_id, rest = block.split("\n", 1)
        assert rest.startswith("Node: "), block
        text = rest.split("Standard output:\n", 1)[1]
        outputs[task_id] = text.split("\n\n", 1)[0] + "\n"
    return outputs


def assert_gone(client: Any, pool_id: str, job_id: str) -> None:
    """The quickstart deletes its job and pool: they are going, or gone."""
    for read in (lambda: client.get_job(job_id), lambda: client.get_pool(pool_id)):
        with suppress(ResourceNotFoundError):
            assert read().state == "deleting"
