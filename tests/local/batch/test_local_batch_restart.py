"""A restarted local target still knows its pools, jobs and tasks; a task that was running
when it stopped is requeued, as Batch requeues the tasks of a node it lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.batch import models as bm
from batch_helpers import make_pool_and_job, wait_task_completed
from fixtures_batch import batch_client_for
from waiting import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def own_target(tmp_path: Path) -> Iterator[Path]:
    """A second local target, so restarting it leaves the run-wide one alone."""
    from runner.backends import local_target

    yield tmp_path / "target"
    local_target.down(tmp_path / "target", purge=True)


def start(folder: Path) -> dict[str, Any]:
    from runner.backends import local_target

    try:
        return local_target.up(folder)
    except Exception as exc:  # noqa: BLE001 - reported as the test's failure
        pytest.fail(f"the local target did not start: {exc}")


def test_state_survives_a_restart_and_running_tasks_are_requeued(own_target):
    from runner.backends import local_target

    client = batch_client_for(start(own_target))
    pool_id, job_id = make_pool_and_job(client, "restart", nodes=1, slots=2)
    client.create_tasks(
        job_id,
        [
            bm.BatchTaskCreateOptions(id="done", command_line="/bin/sh -c 'exit 4'"),
            bm.BatchTaskCreateOptions(id="busy", command_line="sleep 60"),
        ],
    )
    wait_task_completed(client, job_id, "done")
    wait_for(
        lambda: client.get_task(job_id, "busy"),
        lambda t: t.state == bm.BatchTaskState.RUNNING,
        "the busy task to run",
    )

    local_target.down(own_target)
    client = batch_client_for(start(own_target))

    assert client.get_pool(pool_id).state == bm.BatchPoolState.ACTIVE
    assert len(list(client.list_nodes(pool_id))) == 1
    assert client.get_job(job_id).state == bm.BatchJobState.ACTIVE
    done = client.get_task(job_id, "done")
    assert done.state == bm.BatchTaskState.COMPLETED and done.execution_info.exit_code == 4
    busy = wait_for(
        lambda: client.get_task(job_id, "busy"),
        lambda t: t.state == bm.BatchTaskState.RUNNING,
        "the busy task to rerun",
    )
    assert busy.execution_info.requeue_count == 1


def test_after_a_crash_the_restart_stops_what_the_old_emulator_left_running(own_target):
    import os
    import signal

    status = start(own_target)
    client = batch_client_for(status)
    _, job_id = make_pool_and_job(client, "crash", nodes=1)
    client.create_task(
        job_id,
        bm.BatchTaskCreateOptions(
            id="orphan", command_line="/bin/sh -c 'echo $$ > pid; exec sleep 60'"
        ),
    )
    wait_for(
        lambda: client.get_task(job_id, "orphan"),
        lambda t: t.state == bm.BatchTaskState.RUNNING,
        "the task to run",
    )
    first = wait_for(lambda: _pid(client, job_id), lambda p: p is not None, "the task's pid")

    os.kill(status["pid"], signal.SIGKILL)
    wait_for(lambda: _alive(status["pid"]), lambda alive: not alive, "the emulator to die")
    assert _alive(first)  # the task outlived the emulator

    client = batch_client_for(start(own_target))
    assert not _alive(first)
    rerun = wait_for(
        lambda: client.get_task(job_id, "orphan"),
        lambda t: t.state == bm.BatchTaskState.RUNNING,
        "the task to rerun",
    )
    assert rerun.execution_info.requeue_count == 1


def _pid(client: Any, job_id: str) -> int | None:
    try:
        text = b"".join(client.download_task_file(job_id, "orphan", "wd/pid")).decode()
    except Exception:  # noqa: BLE001 - not written yet
        return None
    return int(text) if text.strip() else None


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
