"""Job and task actions the SDK offers beyond create and delete: auto pools, disable and
enable, reactivation, node scheduling; each checked by what then runs."""

from __future__ import annotations

import datetime

import pytest
from azure.batch import models as bm
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from batch_helpers import (
    container_sas_url,
    image,
    make_pool_and_job,
    pool_options,
    wait_task_completed,
)
from waiting import wait_for

pytestmark = pytest.mark.integration
POLL = {"polling_interval": 0}


def test_auto_pool_job_runs_its_tasks_and_its_pool_goes_with_it(batch_client, unique_name):
    job_id = unique_name("autopool")
    batch_client.create_job(
        bm.BatchJobCreateOptions(
            id=job_id,
            pool_info=bm.BatchPoolInfo(
                auto_pool_specification=bm.BatchAutoPoolSpecification(
                    pool_lifetime_option=bm.BatchPoolLifetimeOption.JOB,
                    pool=bm.BatchPoolSpecification(
                        vm_size="standard_d2s_v3",
                        target_dedicated_nodes=1,
                        virtual_machine_configuration=image(),
                    ),
                )
            ),
        )
    )
    pool_id = batch_client.get_job(job_id).execution_info.pool_id
    assert pool_id and batch_client.get_pool(pool_id).target_dedicated_nodes == 1
    batch_client.create_task(job_id, bm.BatchTaskCreateOptions(id="t", command_line="true"))
    assert wait_task_completed(batch_client, job_id, "t").execution_info.exit_code == 0
    batch_client.begin_delete_job(job_id, **POLL).result()
    wait_for(
        lambda: [p.id for p in batch_client.list_pools(filter=f"id eq '{pool_id}'")],
        lambda ids: not ids,
        "the auto pool gone",
    )


def test_disabled_job_requeues_its_running_task_and_runs_it_again_once_enabled(
    batch_client, unique_name
):
    _, job_id = make_pool_and_job(batch_client, unique_name("disable"), nodes=1)
    batch_client.create_task(job_id, bm.BatchTaskCreateOptions(id="slow", command_line="sleep 2"))
    wait_for(
        lambda: batch_client.get_task(job_id, "slow"),
        lambda t: t.state == bm.BatchTaskState.RUNNING,
        "the task running",
    )
    batch_client.begin_disable_job(
        job_id, bm.BatchJobDisableOptions(disable_tasks=bm.DisableBatchJobOption.REQUEUE), **POLL
    ).result()
    task = wait_for(
        lambda: batch_client.get_task(job_id, "slow"),
        lambda t: t.state == bm.BatchTaskState.ACTIVE,
        "the task requeued",
    )
    assert task.execution_info.requeue_count == 1
    assert batch_client.get_job(job_id).state == bm.BatchJobState.DISABLED
    batch_client.begin_enable_job(job_id, **POLL).result()
    assert wait_task_completed(batch_client, job_id, "slow").execution_info.exit_code == 0


def test_reactivated_failed_task_runs_again(batch_client, unique_name):
    _, job_id = make_pool_and_job(batch_client, unique_name("reactivate"), nodes=1)
    batch_client.create_task(
        job_id,
        bm.BatchTaskCreateOptions(
            id="flaky", command_line="test -e marker || { touch marker; exit 3; }"
        ),
    )
    assert wait_task_completed(batch_client, job_id, "flaky").execution_info.exit_code == 3
    batch_client.reactivate_task(job_id, "flaky")
    # A reactivated task runs in the same task folder, so the marker is found this time.
    assert wait_task_completed(batch_client, job_id, "flaky").execution_info.exit_code == 0
    with pytest.raises(HttpResponseError) as caught:
        batch_client.reactivate_task(job_id, "flaky")
    assert caught.value.error is not None and caught.value.error.code == "TaskNotFailed"


def test_node_with_scheduling_disabled_takes_no_task(batch_client, unique_name):
    pool_id, job_id = make_pool_and_job(batch_client, unique_name("nosched"), nodes=1)
    node = wait_for(
        lambda: list(batch_client.list_nodes(pool_id)),
        lambda ns: len(ns) == 1 and ns[0].state == bm.BatchNodeState.IDLE,
        "an idle node",
    )[0]
    batch_client.disable_node_scheduling(
        pool_id,
        node.id,
        bm.BatchNodeDisableSchedulingOptions(
            node_disable_scheduling_option=bm.BatchNodeDisableSchedulingOption.REQUEUE
        ),
    )
    batch_client.create_task(job_id, bm.BatchTaskCreateOptions(id="waits", command_line="true"))
    assert batch_client.get_task(job_id, "waits").state == bm.BatchTaskState.ACTIVE
    batch_client.enable_node_scheduling(pool_id, node.id)
    wait_task_completed(batch_client, job_id, "waits")
    with pytest.raises(ResourceNotFoundError):
        batch_client.get_node(pool_id, "tvmps_missing_d")


def test_account_without_job_schedules_lists_none_and_finds_none(batch_client):
    assert list(batch_client.list_job_schedules()) == []
    with pytest.raises(ResourceNotFoundError) as caught:
        batch_client.get_job_schedule("nightly")
    assert caught.value.error is not None
    assert caught.value.error.code == "JobScheduleNotFound"


def test_node_logs_upload_to_the_callers_container(batch_client, blob_service, unique_name):
    pool_id = unique_name("logs")
    batch_client.create_pool(
        pool_options(
            pool_id,
            nodes=1,
            start_task=bm.BatchStartTask(command_line="echo booted", wait_for_success=True),
        )
    )
    node = wait_for(
        lambda: list(batch_client.list_nodes(pool_id)),
        lambda ns: len(ns) == 1 and ns[0].state == bm.BatchNodeState.IDLE,
        "an idle node",
    )[0]
    container = unique_name("logs")
    blob_service.create_container(container)
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    result = batch_client.upload_node_logs(
        pool_id,
        node.id,
        bm.UploadBatchServiceLogsOptions(
            container_url=container_sas_url(blob_service, container, write=True), start_time=since
        ),
    )
    assert result.number_of_files_uploaded == 2
    names = sorted(b.name for b in blob_service.get_container_client(container).list_blobs())
    assert names == [
        f"{result.virtual_directory_name}/startup/stderr.txt",
        f"{result.virtual_directory_name}/startup/stdout.txt",
    ]


def test_low_priority_nodes_are_counted_apart_from_dedicated_ones(batch_client, unique_name):
    pool_id = unique_name("spot")
    batch_client.create_pool(pool_options(pool_id, nodes=1, target_low_priority_nodes=1))
    nodes = wait_for(
        lambda: list(batch_client.list_nodes(pool_id)), lambda ns: len(ns) == 2, "two nodes"
    )
    assert sorted(n.is_dedicated for n in nodes) == [False, True]
    counts = next(c for c in batch_client.list_pool_node_counts() if c.pool_id == pool_id)
    assert (counts.dedicated.total, counts.low_priority.total) == (1, 1)
