"""Tasks through azure-batch 15: collections, paging, counts, exit codes, timeouts, slots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from azure.batch import models as bm
from azure.core.exceptions import HttpResponseError
from batch_helpers import make_pool_and_job, pool_options, read_file, wait_task_completed
from waiting import wait_for

pytestmark = pytest.mark.integration

ADD_COLLECTION = "POST /jobs/{job_id}/addtaskcollection"
LIST_TASKS = "GET /jobs/{job_id}/tasks"


def test_250_tasks_go_in_three_collections_and_come_back_in_pages(
    batch_client, faults, unique_name
):
    _, job_id = make_pool_and_job(batch_client, unique_name("many"), nodes=0)
    tasks = [bm.BatchTaskCreateOptions(id=f"task-{i:03d}", command_line="true") for i in range(250)]
    faults.reset_counters()
    result = batch_client.create_tasks(job_id, tasks)
    assert faults.counters()[ADD_COLLECTION] == 3
    assert len(result.result_values) == 250
    assert {r.status for r in result.result_values} == {bm.BatchTaskAddStatus.SUCCESS}
    assert all(
        r.location.endswith(f"/jobs/{job_id}/tasks/{r.task_id}") for r in result.result_values
    )

    listed = list(batch_client.list_tasks(job_id, max_results=100))
    assert faults.counters()[LIST_TASKS] == 3
    assert sorted(t.id for t in listed) == [t.id for t in tasks]
    assert {t.state for t in listed} == {bm.BatchTaskState.ACTIVE}


def test_more_than_100_tasks_in_one_request_is_too_large(batch_client, unique_name):
    _, job_id = make_pool_and_job(batch_client, unique_name("big"), nodes=0)
    group = bm.BatchTaskGroup(
        task_values=[bm.BatchTaskCreateOptions(id=f"t{i}", command_line="true") for i in range(101)]
    )
    with pytest.raises(HttpResponseError) as caught:
        batch_client.create_task_collection(job_id, group)
    assert caught.value.status_code == 413
    assert caught.value.error.code == "RequestBodyTooLarge"


def test_collection_reports_each_task_result(batch_client, unique_name):
    _, job_id = make_pool_and_job(batch_client, unique_name("res"), nodes=0)
    batch_client.create_task(job_id, bm.BatchTaskCreateOptions(id="taken", command_line="true"))
    group = bm.BatchTaskGroup(
        task_values=[
            bm.BatchTaskCreateOptions(id="fresh", command_line="true"),
            bm.BatchTaskCreateOptions(id="taken", command_line="true"),
            bm.BatchTaskCreateOptions(id="nocommand"),
        ]
    )
    answer = batch_client.create_task_collection(job_id, group)
    results = {r.task_id: r for r in answer.result_values}
    assert results["fresh"].status == bm.BatchTaskAddStatus.SUCCESS
    assert results["fresh"].etag
    assert results["taken"].status == bm.BatchTaskAddStatus.CLIENT_ERROR
    assert results["taken"].error.code == "TaskExists"
    assert results["nocommand"].error.code == "MissingRequiredProperty"


def test_task_exiting_3_fails_and_keeps_its_stderr(batch_client, unique_name):
    _, job_id = make_pool_and_job(batch_client, unique_name("exit"), nodes=1)
    batch_client.create_task(
        job_id,
        bm.BatchTaskCreateOptions(
            id="three", command_line="/bin/sh -c 'echo to-out; echo broken >&2; exit 3'"
        ),
    )
    task = wait_task_completed(batch_client, job_id, "three")
    info = task.execution_info
    assert info.exit_code == 3
    assert info.result == bm.BatchTaskExecutionResult.FAILURE
    assert info.failure_info.category == bm.BatchErrorSourceCategory.USER_ERROR
    assert info.failure_info.code == "FailureExitCode"
    assert task.node_info.task_root_directory == f"workitems/{job_id}/job-1/three"
    assert read_file(batch_client, job_id, "three", "stderr.txt") == "broken\n"
    assert read_file(batch_client, job_id, "three", "stdout.txt") == "to-out\n"
    head = batch_client.download_task_file(job_id, "three", "stdout.txt", ocp_range="bytes=0-1")
    assert b"".join(head) == b"to"
    props = batch_client.get_task_file_properties(job_id, "three", "stderr.txt")
    assert props.content_length == len("broken\n") and props.is_directory is False
    names = {f.name for f in batch_client.list_task_files(job_id, "three")}
    assert {"stdout.txt", "stderr.txt", "wd"} <= names
    counts = batch_client.get_job_task_counts(job_id).task_counts
    assert (counts.completed, counts.failed, counts.succeeded) == (1, 1, 0)


def test_task_past_its_max_wall_clock_time_is_killed(batch_client, unique_name):
    _, job_id = make_pool_and_job(batch_client, unique_name("slow"), nodes=1)
    batch_client.create_task(
        job_id,
        bm.BatchTaskCreateOptions(
            id="sleepy",
            command_line="sleep 60",
            constraints=bm.BatchTaskConstraints(max_wall_clock_time=timedelta(seconds=1)),
        ),
    )
    task = wait_task_completed(batch_client, job_id, "sleepy")
    assert task.constraints.max_wall_clock_time == timedelta(seconds=1)
    assert task.execution_info.result == bm.BatchTaskExecutionResult.FAILURE
    assert task.execution_info.failure_info.code == "MaxWallClockTimeExpiry"
    assert task.execution_info.exit_code != 0


def test_task_counts_while_tasks_run_honour_task_slots(batch_client, unique_name):
    pool_id, job_id = make_pool_and_job(batch_client, unique_name("slots"), nodes=1, slots=2)
    batch_client.create_tasks(
        job_id,
        [bm.BatchTaskCreateOptions(id=f"wait-{i}", command_line="sleep 60") for i in range(4)],
    )
    counts = wait_for(
        lambda: batch_client.get_job_task_counts(job_id),
        lambda c: c.task_counts.running == 2,
        "two running tasks",
    )
    assert counts.task_counts.active == 2
    assert counts.task_slot_counts.running == 2
    node = next(iter(batch_client.list_nodes(pool_id)))
    assert node.state == bm.BatchNodeState.RUNNING
    assert node.running_task_slots_count == 2

    running = [
        t.id for t in batch_client.list_tasks(job_id) if t.state == bm.BatchTaskState.RUNNING
    ]
    for task_id in running:
        batch_client.terminate_task(job_id, task_id)
    ended = wait_task_completed(batch_client, job_id, running[0])
    assert ended.execution_info.failure_info.code == "TaskEnded"
    # The freed slots go to the two tasks that waited.
    wait_for(
        lambda: batch_client.get_job_task_counts(job_id),
        lambda c: c.task_counts.running == 2 and c.task_counts.completed == 2,
        "the waiting tasks to start",
    )
    batch_client.begin_delete_job(job_id, polling_interval=0).result()


def test_body_over_1mb_is_too_large_and_the_sdk_splits_the_chunk(batch_client, faults, unique_name):
    _, job_id = make_pool_and_job(batch_client, unique_name("huge"), nodes=0)
    padding = "x" * 15_000  # 100 such tasks make a body of about 1.5 MB
    tasks = [
        bm.BatchTaskCreateOptions(id=f"wide-{i}", command_line=f"echo {padding}")
        for i in range(100)
    ]
    faults.reset_counters()
    result = batch_client.create_tasks(job_id, tasks)
    # One refused request of 100 tasks, then two accepted halves of 50.
    assert faults.counters()[ADD_COLLECTION] == 3
    assert len(result.result_values) == 100
    assert len(list(batch_client.list_tasks(job_id))) == 100


def test_max_parallel_tasks_caps_a_job_below_the_free_slots(batch_client, unique_name):
    name = unique_name("par")
    pool_id, job_id = f"{name}-pool", f"{name}-job"
    batch_client.create_pool(pool_options(pool_id, nodes=1, slots=3))
    batch_client.create_job(
        bm.BatchJobCreateOptions(
            id=job_id, pool_info=bm.BatchPoolInfo(pool_id=pool_id), max_parallel_tasks=1
        )
    )
    batch_client.create_tasks(
        job_id, [bm.BatchTaskCreateOptions(id=f"p{i}", command_line="sleep 60") for i in range(3)]
    )
    wait_for(
        lambda: batch_client.get_job_task_counts(job_id),
        lambda c: c.task_counts.running == 1,
        "one running task",
    )
    node = next(iter(batch_client.list_nodes(pool_id)))
    assert node.running_tasks_count == 1
    assert batch_client.get_job_task_counts(job_id).task_counts.active == 2
    batch_client.begin_delete_job(job_id, polling_interval=0).result()
