"""``job.secrets`` reach each task through a file, never through its definition: the plan
and the task's canonical form name the secrets, each ``(sensitive)``, and its command line
is wrapped to export them and delete the file once no attempt needs it. The wrapper is run
here by a real ``/bin/sh``, as a node runs it."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runner.plan.batch import ObservedBatch, diff_desired
from runner.plan.batch_desired import DesiredBatch, desired_batch
from runner.plan.batch_inputs import BatchInputs
from runner.plan.batch_secrets import (
    ATTEMPTS_FILE,
    SECRETS_FILE,
    SecretUnset,
    secrets_text,
    wrapped_command,
)
from runner.plan.model import Plan
from runner.spec.models import BatchJob

SECRET = "s3cr3t 'quoted' $HOME `x`\nline two"


def desired(merge: bool = False, retries: int = 0) -> DesiredBatch:
    spec: dict[str, Any] = {
        "kind": "BatchJob",
        "name": "sec",
        "pool": {"id": "sec-pool"},
        "job": {"id": "sec-job", "secrets": {"API_TOKEN": {"fromEnv": "MY_TOKEN"}}},
        "tasks": {
            "forEach": {"values": ["a"]},
            "id": "t-{{ item }}",
            "command": "use $API_TOKEN",
            "maxRetries": retries,
            "outputs": ["o.txt"],
        },
        "collect": {"dir": "out"},
    }
    if merge:
        spec["merge"] = {"id": "m", "command": "cat {{ inputs[0] }}", "maxRetries": 2}
    return desired_batch(BatchJob.model_validate(spec), BatchInputs())


def test_tasks_name_their_secrets_as_sensitive_and_fetch_them_as_a_file() -> None:
    batch = desired(merge=True)
    assert batch.secrets is not None
    assert (batch.secrets.container, batch.secrets.blob) == (
        "sec-input",
        "runner-secrets/sec-job.env",
    )
    for task in batch.tasks:
        assert task.secrets == batch.secrets
        assert task.canonical()["secrets"] == {"API_TOKEN": "(sensitive)"}
        assert "environmentSettings" not in task.canonical()
    mapped, merge = batch.tasks
    assert (mapped.max_retries, merge.max_retries) == (0, 2)
    assert mapped.command_line == "/bin/sh -c " + shlex.quote(wrapped_command("use $API_TOKEN", 0))
    assert f"/bin/sh -c {shlex.quote('use $API_TOKEN')}" in wrapped_command("use $API_TOKEN", 0)


def test_the_plan_shows_secret_names_only() -> None:
    changes = diff_desired(desired(), ObservedBatch(), workspace="ws")
    text = Plan(workspace="ws", changes=tuple(changes)).model_dump_json()
    assert '"secrets":{"API_TOKEN":"(sensitive)"}' in text
    assert "MY_TOKEN" not in text


def test_the_secrets_file_quotes_values_for_the_shell() -> None:
    batch = desired()
    assert batch.secrets is not None
    with pytest.raises(SecretUnset, match="MY_TOKEN is not set"):
        secrets_text(batch.secrets, {})
    text = secrets_text(batch.secrets, {"MY_TOKEN": SECRET})
    assert text.startswith(b"API_TOKEN=")


def run_wrapper(wd: Path, command: str, retries: int) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "AZ_BATCH_TASK_WORKING_DIR": str(wd)}
    line = wrapped_command(command, retries)
    return subprocess.run(
        ["/bin/sh", "-c", line], cwd=wd, env=env, capture_output=True, text=True, timeout=30
    )


def hand_over(wd: Path) -> None:
    batch = desired()
    assert batch.secrets is not None
    (wd / SECRETS_FILE).write_bytes(secrets_text(batch.secrets, {"MY_TOKEN": SECRET}))


def test_the_command_sees_the_secret_and_the_file_is_gone_before_it_runs(
    tmp_path: Path,
) -> None:
    hand_over(tmp_path)
    done = run_wrapper(tmp_path, 'printf %s "$API_TOKEN"; ls -A', retries=0)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(SECRET)
    assert SECRETS_FILE not in done.stdout  # deleted before the command started
    assert not (tmp_path / SECRETS_FILE).exists()


def test_a_failed_attempt_keeps_the_file_for_the_next_and_the_last_deletes_it(
    tmp_path: Path,
) -> None:
    hand_over(tmp_path)
    first = run_wrapper(tmp_path, 'test -n "$API_TOKEN"; exit 3', retries=1)
    assert first.returncode == 3
    assert (tmp_path / SECRETS_FILE).exists()  # Batch retries in this folder
    second = run_wrapper(tmp_path, 'printf %s "$API_TOKEN"; exit 3', retries=1)
    assert (second.returncode, second.stdout) == (3, SECRET)
    assert not (tmp_path / SECRETS_FILE).exists()
    assert (tmp_path / ATTEMPTS_FILE).read_text() == "2\n"
    third = run_wrapper(tmp_path, "true", retries=1)
    assert third.returncode == 1
    assert "secrets file is gone" in third.stderr


def test_a_successful_attempt_deletes_the_file(tmp_path: Path) -> None:
    hand_over(tmp_path)
    done = run_wrapper(tmp_path, "exit 0", retries=3)
    assert done.returncode == 0
    assert not (tmp_path / SECRETS_FILE).exists()
