"""Batch runs a command line without a shell (Azure's docs: invoke ``/bin/sh -c`` to
expand variables), so the runner sends each task's and the start task's command as one
quoted argument of ``/bin/sh -c``: on the wire, shell syntax and quotes arrive intact,
and the local target (which runs command lines under ``/bin/sh -c`` itself) runs them the
same."""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Any

import pytest

from runner.backends import batch as bb
from runner.backends import batch_tasks as bt
from runner.backends.sas import sas_expiry, signer_for
from runner.engine.inputs import desired_from_files
from runner.spec.models import BatchJob

pytestmark = pytest.mark.integration

TASK = (
    'printf \'%s\\n\' "it\'s $AZ_BATCH_TASK_ID" "in {{ file.name }}" > {{ file.stem }}_OUTPUT.txt'
)
START = 'echo "ready on $AZ_BATCH_NODE_ID" > "$AZ_BATCH_NODE_SHARED_DIR/it\'s ready"'


@pytest.fixture
def target(emulator: dict[str, Any]) -> Any:
    from runner.backends.target import local_target

    return local_target(emulator)


def spec_for(name: str) -> BatchJob:
    return BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": name,
            "pool": {"id": f"{name}-pool", "nodes": 1, "startTask": {"command": START}},
            "job": {"id": f"{name}-job"},
            "tasks": {
                "forEachFile": "*.txt",
                "id": "t-{{ file.stem }}",
                "command": TASK,
                "outputs": ["{{ file.stem }}_OUTPUT.txt"],
            },
            "collect": {"dir": "out"},
        }
    )


def test_commands_travel_as_one_quoted_argument_of_sh_c(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n")
    d = desired_from_files(spec_for("shell"), tmp_path)
    (task,) = d.tasks
    assert shlex.split(task.command_line) == [
        "/bin/sh",
        "-c",
        'printf \'%s\\n\' "it\'s $AZ_BATCH_TASK_ID" "in a.txt" > a_OUTPUT.txt',
    ]
    assert shlex.split(d.pool["startTask"]["commandLine"]) == ["/bin/sh", "-c", START]


def test_wrapped_commands_run_with_variables_and_quotes_on_a_node(
    target: Any, unique_name: Any, tmp_path: Path
) -> None:
    name = unique_name("shell")
    spec = spec_for(name)
    (tmp_path / "a.txt").write_text("x\n")
    d = desired_from_files(spec, tmp_path)
    client = target.batch_client("local")
    service = target.blob_service("local")
    sign = signer_for(service, target.storage_account_key("local"), sas_expiry(spec.timeout))
    from runner.backends import blob

    for container in set(d.containers.values()):
        blob.create_container(service, container, {})
    for f in d.uploads:
        blob.upload(service, f, {})
    bb.create_pool(client, d, sign, "ws")
    bb.create_job(client, d, "ws")
    # what went over the wire, as Batch keeps it
    sent_start = client.get_pool(spec.pool.id).start_task.command_line
    assert sent_start == d.pool["startTask"]["commandLine"]
    out_url = sign.write_container(d.containers["output"])
    options = [bt.task_options(t, spec.tasks, sign, out_url) for t in d.tasks]
    assert bt.add_chunk(client, spec.job.id, options).added == ["t-a"]
    assert client.get_task(spec.job.id, "t-a").command_line == d.tasks[0].command_line

    deadline = time.monotonic() + 60
    while bb.read_tasks(client, spec.job.id)["t-a"].state != "completed":
        assert time.monotonic() < deadline, "task did not complete"
        time.sleep(0.2)
    result = bb.read_tasks(client, spec.job.id)["t-a"]
    assert result.succeeded, result
    text = b"".join(
        service.get_blob_client(d.containers["output"], "t-a/a_OUTPUT.txt").download_blob().chunks()
    ).decode()
    assert text == "it's t-a\nin a.txt\n"
    (node,) = list(client.list_nodes(spec.pool.id))
    ready = b"".join(client.download_node_file(spec.pool.id, node.id, "shared/it's ready"))
    assert ready.decode() == f"ready on {node.id}\n"
    bb.delete_job(client, spec.job.id)
    bb.delete_pool(client, spec.pool.id)
    for container in set(d.containers.values()):
        blob.delete_container(service, container)
