"""Node sandboxes: start tasks, AZ_BATCH_* variables, files in and out through SAS URLs."""

from __future__ import annotations

import pytest
from azure.batch import models as bm
from batch_helpers import (
    blob_sas_url,
    container_sas_url,
    make_pool_and_job,
    output_file,
    wait_task_completed,
)
from waiting import wait_for

pytestmark = pytest.mark.integration


def blob_text(blob_service, container: str, name: str) -> str:
    return blob_service.get_blob_client(container, name).download_blob().readall().decode()


def containers(blob_service, name: str, *kinds: str) -> list[str]:
    names = [f"{name}-{kind}" for kind in kinds]
    for container in names:
        blob_service.create_container(container)
    return names


def test_inputs_arrive_and_outputs_leave_through_sas(
    batch_client, blob_service, emulator, unique_name
):
    name = unique_name("io")
    app, inputs, outputs = containers(blob_service, name, "app", "in", "out")
    blob_service.get_blob_client(app, "prep.sh").upload_blob(
        b'echo prepared > "$AZ_BATCH_NODE_SHARED_DIR/prepared.txt"\n'
    )
    for blob, text in (
        ("data/a.txt", b"alpha\n"),
        ("data/b.txt", b"beta\n"),
        ("other/c.txt", b"gamma\n"),
    ):
        blob_service.get_blob_client(inputs, blob).upload_blob(text)
    start = bm.BatchStartTask(
        command_line="/bin/sh -c 'cp prep.sh $AZ_BATCH_NODE_SHARED_DIR/ && sh prep.sh'",
        resource_files=[
            bm.ResourceFile(
                http_url=blob_sas_url(blob_service, app, "prep.sh"), file_path="prep.sh"
            )
        ],
        wait_for_success=True,
    )
    pool_id, job_id = make_pool_and_job(batch_client, name, nodes=1, start_task=start)
    out_url = container_sas_url(blob_service, outputs, write=True)
    batch_client.create_task(
        job_id,
        bm.BatchTaskCreateOptions(
            id="io",
            command_line="/bin/sh -c 'cat data/*.txt $AZ_BATCH_NODE_SHARED_DIR/prepared.txt "
            "> joined.txt && env | grep -e ^AZ_BATCH_ -e ^GREETING= | sort > env.txt'",
            resource_files=[
                bm.ResourceFile(
                    storage_container_url=container_sas_url(blob_service, inputs),
                    blob_prefix="data/",
                )
            ],
            output_files=[
                output_file("joined.txt", out_url),
                output_file("env.txt", out_url, path="meta/env.txt"),
                output_file("../std*.txt", out_url, path="logs"),
            ],
            environment_settings=[bm.EnvironmentSetting(name="GREETING", value="hello")],
        ),
    )

    task = wait_task_completed(batch_client, job_id, "io")
    assert task.execution_info.result == bm.BatchTaskExecutionResult.SUCCESS, task.execution_info
    listed = {b.name for b in blob_service.get_container_client(outputs).list_blobs()}
    assert listed == {"joined.txt", "meta/env.txt", "logs/stdout.txt", "logs/stderr.txt"}
    assert blob_text(blob_service, outputs, "joined.txt") == "alpha\nbeta\nprepared\n"

    env = dict(
        line.split("=", 1) for line in blob_text(blob_service, outputs, "meta/env.txt").splitlines()
    )
    assert env["GREETING"] == "hello"
    assert env["AZ_BATCH_ACCOUNT_NAME"] == emulator["batch"]["account"]
    assert env["AZ_BATCH_POOL_ID"] == pool_id and env["AZ_BATCH_JOB_ID"] == job_id
    assert env["AZ_BATCH_TASK_ID"] == "io"
    assert env["AZ_BATCH_NODE_ID"] == task.node_info.node_id
    root = env["AZ_BATCH_NODE_ROOT_DIR"]
    assert env["AZ_BATCH_NODE_SHARED_DIR"] == f"{root}/shared"
    assert env["AZ_BATCH_NODE_STARTUP_DIR"] == f"{root}/startup"
    assert env["AZ_BATCH_TASK_DIR"] == f"{root}/workitems/{job_id}/job-1/io"
    assert env["AZ_BATCH_TASK_WORKING_DIR"] == f"{root}/workitems/{job_id}/job-1/io/wd"

    files = {f.name for f in batch_client.list_task_files(job_id, "io", recursive=True)}
    assert {"wd/data/a.txt", "wd/data/b.txt"} <= files and "wd/other/c.txt" not in files
    node = batch_client.get_node(pool_id, task.node_info.node_id)
    assert node.start_task_info.state == bm.BatchStartTaskState.COMPLETED
    assert node.start_task_info.exit_code == 0


def test_failed_start_task_makes_the_node_unusable_and_says_so(batch_client, unique_name):
    start = bm.BatchStartTask(
        command_line="/bin/sh -c 'echo no-luck >&2; exit 7'", wait_for_success=True
    )
    pool_id, job_id = make_pool_and_job(batch_client, unique_name("bad"), nodes=1, start_task=start)
    batch_client.create_task(job_id, bm.BatchTaskCreateOptions(id="never", command_line="true"))
    node = wait_for(
        lambda: next(iter(batch_client.list_nodes(pool_id)), None),
        lambda n: n is not None and n.state == bm.BatchNodeState.START_TASK_FAILED,
        "the node to fail its start task",
    )
    info = node.start_task_info
    assert info.exit_code == 7 and info.result == bm.BatchTaskExecutionResult.FAILURE
    assert info.failure_info.code == "FailureExitCode"
    stderr = b"".join(batch_client.download_node_file(pool_id, node.id, "startup/stderr.txt"))
    assert stderr == b"no-luck\n"
    # No usable node: the task waits.
    assert batch_client.get_task(job_id, "never").state == bm.BatchTaskState.ACTIVE


def test_upload_conditions_pick_outputs_by_outcome(batch_client, blob_service, unique_name):
    name = unique_name("cond")
    (outputs,) = containers(blob_service, name, "out")
    url = container_sas_url(blob_service, outputs, write=True)
    _, job_id = make_pool_and_job(batch_client, name, nodes=1, slots=2)
    for task_id, code in (("good", 0), ("bad", 1)):
        batch_client.create_task(
            job_id,
            bm.BatchTaskCreateOptions(
                id=task_id,
                command_line=f"/bin/sh -c 'echo {task_id} > r.txt; exit {code}'",
                output_files=[
                    output_file("r.txt", url, f"{task_id}/on-success.txt", "tasksuccess"),
                    output_file("r.txt", url, f"{task_id}/on-failure.txt", "taskfailure"),
                    output_file("r.txt", url, f"{task_id}/always.txt", "taskcompletion"),
                ],
            ),
        )
    for task_id in ("good", "bad"):
        wait_task_completed(batch_client, job_id, task_id)
    listed = {b.name for b in blob_service.get_container_client(outputs).list_blobs()}
    assert listed == {
        "good/on-success.txt",
        "good/always.txt",
        "bad/on-failure.txt",
        "bad/always.txt",
    }


def test_resource_file_cannot_be_written_outside_the_task_folder(
    batch_client, blob_service, unique_name
):
    name = unique_name("esc")
    (inputs,) = containers(blob_service, name, "in")
    blob_service.get_blob_client(inputs, "x.txt").upload_blob(b"x")
    _, job_id = make_pool_and_job(batch_client, name, nodes=1)
    batch_client.create_task(
        job_id,
        bm.BatchTaskCreateOptions(
            id="escape",
            command_line="true",
            resource_files=[
                bm.ResourceFile(
                    http_url=blob_sas_url(blob_service, inputs, "x.txt"),
                    file_path="../../../../escaped.txt",
                )
            ],
        ),
    )
    task = wait_task_completed(batch_client, job_id, "escape")
    assert task.execution_info.result == bm.BatchTaskExecutionResult.FAILURE
    assert task.execution_info.failure_info.code == "ResourceFilePathInvalid"
    assert task.execution_info.exit_code is None
