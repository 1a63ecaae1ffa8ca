"""A restarted local target still knows its pools, jobs and tasks; a task that was running
when it stopped is requeued, as Batch requeues the tasks of a node it lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.batch import models as bm
from batch_helpers import make_pool_and_job, wait_for, wait_task_completed
from fixtures_batch import batch_client_for

pytestmark = pytest.mark.integration


@pytest.fixture
def own_target(tmp_path: Path) -> Iterator[Path]:
    """A second local target, so restarting it leaves the run-wide one alone."""
    from runner.local import lifecycle

    yield tmp_path / "target"
    lifecycle.down(tmp_path / "target", purge=True)


def start(folder: Path) -> dict[str, Any]:
    from runner.local import lifecycle

    try:
        return lifecycle.up(folder)
    except Exception as exc:  # noqa: BLE001 - reported as the test's failure
        pytest.fail(f"the local target did not start: {exc}")


def test_state_survives_a_restart_and_running_tasks_are_requeued(own_target):
    from runner.local import lifecycle

    client = batch_client_for(start(own_target))
    pool_id, job_id = make_pool_and_job(client, "restart", nodes=1, slots=2)
    client.create_tasks(job_id, [
        bm.BatchTaskCreateOptions(id="done", command_line="/bin/sh -c 'exit 4'"),
        bm.BatchTaskCreateOptions(id="busy", command_line="sleep 60")])
    wait_task_completed(client, job_id, "done")
    wait_for(lambda: client.get_task(job_id, "busy"),
             lambda t: t.state == bm.BatchTaskState.RUNNING, "the busy task to run")

    lifecycle.down(own_target)
    client = batch_client_for(start(own_target))

    assert client.get_pool(pool_id).state == bm.BatchPoolState.ACTIVE
    assert len(list(client.list_nodes(pool_id))) == 1
    assert client.get_job(job_id).state == bm.BatchJobState.ACTIVE
    done = client.get_task(job_id, "done")
    assert done.state == bm.BatchTaskState.COMPLETED and done.execution_info.exit_code == 4
    busy = wait_for(lambda: client.get_task(job_id, "busy"),
                    lambda t: t.state == bm.BatchTaskState.RUNNING, "the busy task to rerun")
    assert busy.execution_info.requeue_count == 1
