"""Task dependencies through azure-batch 15, as Batch keeps them: a dependent task stays
active until what it depends on has completed and satisfied it; a failed dependency
blocks it for good unless its exit conditions say satisfy; dependencies need a job made
with usesTaskDependencies."""

from __future__ import annotations

from typing import Any

import pytest
from azure.batch import models as bm
from azure.core.exceptions import HttpResponseError
from batch_helpers import pool_options, wait_task_completed

pytestmark = pytest.mark.integration


def _job(client: Any, name: str, *, dependencies: bool = True) -> str:
    pool_id, job_id = f"{name}-pool", f"{name}-job"
    client.create_pool(pool_options(pool_id, nodes=1))
    client.create_job(
        bm.BatchJobCreateOptions(
            id=job_id,
            pool_info=bm.BatchPoolInfo(pool_id=pool_id),
            uses_task_dependencies=dependencies or None,
        )
    )
    return job_id


def _task(task_id: str, command: str = "true", **kwargs: Any) -> bm.BatchTaskCreateOptions:
    return bm.BatchTaskCreateOptions(id=task_id, command_line=f"/bin/sh -c '{command}'", **kwargs)


def _on(*ids: str) -> bm.BatchTaskDependencies:
    return bm.BatchTaskDependencies(task_ids=list(ids))


def test_dependencies_need_a_job_that_uses_them(batch_client, unique_name):
    job_id = _job(batch_client, unique_name("nodeps"), dependencies=False)
    with pytest.raises(HttpResponseError) as caught:
        batch_client.create_task(job_id, _task("after", depends_on=_on("before")))
    assert caught.value.status_code == 409
    assert caught.value.error.code == "TaskDependenciesNotSpecifiedOnJob"


def test_dependent_task_waits_for_its_dependency_to_succeed(batch_client, unique_name):
    job_id = _job(batch_client, unique_name("wait"))
    batch_client.create_task(job_id, _task("after", depends_on=_on("gate")))
    batch_client.create_task(job_id, _task("other"))
    # The node ran a task queued behind the dependent one: it was free, and passed over.
    wait_task_completed(batch_client, job_id, "other")
    assert batch_client.get_task(job_id, "after").state == bm.BatchTaskState.ACTIVE

    batch_client.create_task(job_id, _task("gate"))
    after = wait_task_completed(batch_client, job_id, "after")
    gate = batch_client.get_task(job_id, "gate")
    assert after.execution_info.exit_code == 0
    assert after.execution_info.start_time >= gate.execution_info.end_time
    assert after.depends_on.task_ids == ["gate"]


def test_failed_dependency_blocks_the_dependent_task_which_stays_active(batch_client, unique_name):
    job_id = _job(batch_client, unique_name("block"))
    batch_client.create_task(job_id, _task("bad", "exit 1"))
    batch_client.create_task(job_id, _task("merge", depends_on=_on("bad")))
    batch_client.create_task(job_id, _task("other"))
    wait_task_completed(batch_client, job_id, "bad")
    wait_task_completed(batch_client, job_id, "other")

    merge = batch_client.get_task(job_id, "merge")
    assert merge.state == bm.BatchTaskState.ACTIVE
    assert merge.execution_info.start_time is None
    counts = batch_client.get_job_task_counts(job_id).task_counts
    assert (counts.active, counts.running, counts.failed) == (1, 0, 1)


def test_failed_dependency_with_satisfy_lets_the_dependent_task_run(batch_client, unique_name):
    job_id = _job(batch_client, unique_name("satisfy"))
    satisfy = bm.ExitConditions(default=bm.ExitOptions(dependency_action="satisfy"))
    batch_client.create_task(job_id, _task("bad", "exit 2", exit_conditions=satisfy))
    batch_client.create_task(job_id, _task("merge", depends_on=_on("bad")))
    merge = wait_task_completed(batch_client, job_id, "merge")
    assert merge.execution_info.exit_code == 0
    assert batch_client.get_task(job_id, "bad").execution_info.exit_code == 2


def test_exit_code_mapping_wins_over_default(batch_client, unique_name):
    job_id = _job(batch_client, unique_name("codes"))
    conditions = bm.ExitConditions(
        exit_codes=[
            bm.ExitCodeMapping(code=3, exit_options=bm.ExitOptions(dependency_action="block"))
        ],
        default=bm.ExitOptions(dependency_action="satisfy"),
    )
    batch_client.create_task(job_id, _task("three", "exit 3", exit_conditions=conditions))
    batch_client.create_task(job_id, _task("merge", depends_on=_on("three")))
    batch_client.create_task(job_id, _task("other"))
    wait_task_completed(batch_client, job_id, "three")
    wait_task_completed(batch_client, job_id, "other")
    assert batch_client.get_task(job_id, "merge").state == bm.BatchTaskState.ACTIVE


def test_range_dependency_waits_for_every_task_in_the_range(batch_client, unique_name):
    job_id = _job(batch_client, unique_name("range"))
    ranges = bm.BatchTaskDependencies(task_id_ranges=[bm.BatchTaskIdRange(start=1, end=3)])
    batch_client.create_tasks(job_id, [_task(str(i), "sleep 0.2") for i in (1, 2, 3)])
    batch_client.create_task(job_id, _task("sum", depends_on=ranges))
    total = wait_task_completed(batch_client, job_id, "sum")
    ends = [batch_client.get_task(job_id, str(i)).execution_info.end_time for i in (1, 2, 3)]
    assert total.execution_info.start_time >= max(ends)
    assert total.depends_on.task_id_ranges[0].end == 3
