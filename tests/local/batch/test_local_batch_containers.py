"""Container pools and container tasks through azure-batch 15, on the local Docker engine."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.batch import models as bm
from batch_helpers import (
    blob_sas_url,
    container_sas_url,
    output_file,
    pool_options,
    read_file,
    wait_task_completed,
)
from fixtures_batch import batch_client_for
from waiting import wait_for

pytestmark = pytest.mark.integration

ABSENT_IMAGE = "runner-test/absent:1"


def container_pool(client, pool_id: str, images: list[str], **config) -> None:
    options = pool_options(pool_id)
    options.virtual_machine_configuration.container_configuration = bm.BatchContainerConfiguration(
        type=bm.ContainerType.DOCKER_COMPATIBLE, container_image_names=images, **config
    )
    client.create_pool(options)


def job_on(client, job_id: str, pool_id: str) -> None:
    client.create_job(
        bm.BatchJobCreateOptions(
            id=job_id,
            pool_info=bm.BatchPoolInfo(pool_id=pool_id),
            common_environment_settings=[bm.EnvironmentSetting(name="FROM_JOB", value="job-env")],
        )
    )


def in_container(image: str) -> bm.BatchTaskContainerSettings:
    return bm.BatchTaskContainerSettings(
        image_name=image, working_directory=bm.ContainerWorkingDirectory.TASK_WORKING_DIRECTORY
    )


def test_container_task_runs_in_its_image_with_the_batch_layout(
    batch_client, blob_service, test_image, unique_name
):
    name = unique_name("ctr")
    pool_id, job_id = f"{name}-pool", f"{name}-job"
    registry = bm.ContainerRegistryReference(
        registry_server="registry.example", username="reader", password="s3cret-pass"
    )
    container_pool(batch_client, pool_id, [test_image], container_registries=[registry])
    job_on(batch_client, job_id, pool_id)
    inputs, outputs = f"{name}-in", f"{name}-out"
    blob_service.create_container(inputs)
    blob_service.create_container(outputs)
    blob_service.get_blob_client(inputs, "words.txt").upload_blob(b"hello from a blob\n")
    script = (
        "test -f /.dockerenv && echo in-a-container; "
        'echo "$AZ_BATCH_TASK_ID $AZ_BATCH_JOB_ID $FROM_JOB $FROM_TASK"; '
        'test "$(pwd)" = "$AZ_BATCH_TASK_WORKING_DIR" && echo in-the-wd; '
        "cat words.txt; ls -d $AZ_BATCH_NODE_SHARED_DIR $AZ_BATCH_NODE_STARTUP_DIR"
    )
    tail = "cat report.txt; echo oops >&2; exit 3"
    batch_client.create_task(
        job_id,
        bm.BatchTaskCreateOptions(
            id="boxed",
            command_line=f"/bin/sh -c '( {script} ) > report.txt; {tail}'",
            container_settings=in_container(test_image),
            environment_settings=[bm.EnvironmentSetting(name="FROM_TASK", value="task-env")],
            resource_files=[
                bm.ResourceFile(
                    http_url=blob_sas_url(blob_service, inputs, "words.txt"), file_path="words.txt"
                )
            ],
            output_files=[
                output_file("report.txt", container_sas_url(blob_service, outputs, True))
            ],
        ),
    )

    task = wait_task_completed(batch_client, job_id, "boxed")
    assert task.execution_info.exit_code == 3
    assert task.execution_info.failure_info.code == "FailureExitCode"
    report = blob_service.get_blob_client(outputs, "report.txt").download_blob().readall().decode()
    lines = report.splitlines()
    assert lines[:4] == [
        "in-a-container",
        f"boxed {job_id} job-env task-env",
        "in-the-wd",
        "hello from a blob",
    ]
    assert len(lines) == 6  # the shared and startup folders are mounted at their own paths
    assert read_file(batch_client, job_id, "boxed", "stdout.txt") == report
    assert read_file(batch_client, job_id, "boxed", "stderr.txt") == "oops\n"
    # What the container wrote is the emulator's to delete (it ran as the emulator's user).
    batch_client.delete_task_file(job_id, "boxed", "wd/report.txt")
    names = {f.name for f in batch_client.list_task_files(job_id, "boxed", recursive=True)}
    assert "wd/words.txt" in names and "wd/report.txt" not in names

    shown = batch_client.get_pool(pool_id).virtual_machine_configuration.container_configuration
    assert shown.type == bm.ContainerType.DOCKER_COMPATIBLE
    assert shown.container_registries[0].username == "reader"
    assert shown.container_registries[0].password is None


def test_container_task_past_its_wall_clock_time_is_killed_and_removed(
    batch_client, docker_client, test_image, unique_name
):
    name = unique_name("ctr-slow")
    pool_id, job_id = f"{name}-pool", f"{name}-job"
    container_pool(batch_client, pool_id, [test_image])
    job_on(batch_client, job_id, pool_id)
    batch_client.create_task(
        job_id,
        bm.BatchTaskCreateOptions(
            id="slow",
            command_line="/bin/sh -c 'sleep 60'",
            container_settings=in_container(test_image),
            constraints=bm.BatchTaskConstraints(max_wall_clock_time="PT1S"),
        ),
    )
    task = wait_task_completed(batch_client, job_id, "slow")
    assert task.execution_info.failure_info.code == "MaxWallClockTimeExpiry"
    assert task.execution_info.exit_code == 137
    left = docker_client.containers.list(
        all=True, filters={"label": f"runner.local.batch.task={job_id}/slow"}
    )
    assert left == []


def test_tasks_whose_container_cannot_start_fail_saying_why(batch_client, test_image, unique_name):
    name = unique_name("ctr-absent")
    pool_id, job_id = f"{name}-pool", f"{name}-job"
    container_pool(batch_client, pool_id, [])
    job_on(batch_client, job_id, pool_id)
    batch_client.create_task(
        job_id,
        bm.BatchTaskCreateOptions(
            id="absent", command_line="true", container_settings=in_container(ABSENT_IMAGE)
        ),
    )
    batch_client.create_task(job_id, bm.BatchTaskCreateOptions(id="bare", command_line="true"))
    batch_client.create_task(
        job_id,
        bm.BatchTaskCreateOptions(
            id="bash", command_line="/bin/bash -c true", container_settings=in_container(test_image)
        ),
    )

    failure = wait_task_completed(batch_client, job_id, "absent").execution_info.failure_info
    assert failure.code == "ContainerInvalidImage"
    assert ABSENT_IMAGE in failure.message
    detail = failure.details[0].value
    assert f"docker pull {ABSENT_IMAGE}" in detail and "docker load -i" in detail
    # A container pool's node runs every task in a container: one without settings fails.
    bare = wait_task_completed(batch_client, job_id, "bare").execution_info.failure_info
    assert bare.code == "ContainerTaskSettingsNotFound"
    # The image has no bash: the runtime's own words say so.
    bash = wait_task_completed(batch_client, job_id, "bash").execution_info.failure_info
    assert bash.code == "CommandProgramNotFound"
    assert "/bin/bash" in bash.details[0].value


def test_container_pool_whose_image_is_absent_has_an_unusable_node(batch_client, unique_name):
    pool_id = unique_name("ctr-prefetch")
    container_pool(batch_client, pool_id, [ABSENT_IMAGE])
    node = wait_for(
        lambda: next(iter(batch_client.list_nodes(pool_id)), None),
        lambda n: n is not None and n.state == bm.BatchNodeState.UNUSABLE,
        "an unusable node",
    )
    assert node.errors[0].code == "ContainerInvalidImage"
    assert "docker load -i" in node.errors[0].error_details[0].value


def test_container_settings_on_a_pool_without_containers_fail_the_task(
    batch_client, test_image, unique_name
):
    name = unique_name("ctr-plain")
    pool_id, job_id = f"{name}-pool", f"{name}-job"
    batch_client.create_pool(pool_options(pool_id))
    job_on(batch_client, job_id, pool_id)
    batch_client.create_task(
        job_id,
        bm.BatchTaskCreateOptions(
            id="boxed", command_line="true", container_settings=in_container(test_image)
        ),
    )
    task = wait_task_completed(batch_client, job_id, "boxed")
    assert task.execution_info.failure_info.code == "ContainerInvalidSettings"
    assert task.execution_info.exit_code is None


def test_supported_images_say_which_run_containers(batch_client):
    images = {
        (i.image_reference.publisher, i.image_reference.offer): i
        for i in batch_client.list_supported_images()
    }
    hpc = images[("microsoft-dsvm", "ubuntu-hpc")]
    assert hpc.node_agent_sku_id == "batch.node.ubuntu 22.04"
    assert "DockerCompatible" in hpc.capabilities
    assert not images[("canonical", "0001-com-ubuntu-server-jammy")].capabilities


@pytest.fixture
def own_target(tmp_path: Path) -> Iterator[Path]:
    """A second local target, so killing it leaves the run-wide one alone."""
    from runner.backends import local_target

    yield tmp_path / "target"
    local_target.down(tmp_path / "target", purge=True)


def test_a_crashed_emulators_task_container_is_removed_when_it_restarts(
    own_target, docker_client, test_image
):
    from runner.backends import local_target

    status = local_target.up(own_target)
    client = batch_client_for(status)
    container_pool(client, "crash-pool", [test_image])
    job_on(client, "crash-job", "crash-pool")
    client.create_task(
        "crash-job",
        bm.BatchTaskCreateOptions(
            id="orphan", command_line="sleep 600", container_settings=in_container(test_image)
        ),
    )
    label = {"label": "runner.local.batch.task=crash-job/orphan"}
    first = wait_for(
        lambda: docker_client.containers.list(filters=label), bool, "the task's container"
    )[0]

    os.kill(status["pid"], signal.SIGKILL)
    wait_for(lambda: _alive(status["pid"]), lambda alive: not alive, "the emulator to die")
    first.reload()
    assert first.status == "running"  # the container outlived the emulator

    client = batch_client_for(local_target.up(own_target))
    rerun = wait_for(
        lambda: client.get_task("crash-job", "orphan"),
        lambda t: t.state == bm.BatchTaskState.RUNNING,
        "the task to rerun",
    )
    assert rerun.execution_info.requeue_count == 1
    ids = {c.id for c in docker_client.containers.list(all=True, filters=label)}
    assert first.id not in ids


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def test_container_pool_refused_for_a_registry_without_its_password(batch_client, unique_name):
    from azure.core.exceptions import HttpResponseError

    registry = bm.ContainerRegistryReference(registry_server="registry.example", username="u")
    with pytest.raises(HttpResponseError) as caught:
        container_pool(batch_client, unique_name("ctr-nopass"), [], container_registries=[registry])
    assert caught.value.status_code == 400
    assert caught.value.error.code == "MissingRequiredProperty"
    values = {v["key"]: v["value"] for v in caught.value.response.json()["values"]}
    assert values["PropertyName"] == "password"
