"""azure-batch's own tests (``sdk/batch/azure-batch/tests/test_batch.py``), ported to the
local account: the same calls and assertions, with the credentials, endpoint and account
names changed, Windows command lines made POSIX, and lists filtered to this test's objects
(the account is shared with other tests). Parts of the emulated subset only; job schedules,
certificates, node extensions and log uploads are left out (see DEVIATIONS.md)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from azure.batch import models
from azure.batch.models import _models as hidden
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from batch_helpers import image, pool_options, wait_task_completed
from waiting import wait_for

pytestmark = pytest.mark.integration

POLL = {"polling_interval": 0}


def batch_error(code: str, call: Any, *args: Any, **kwargs: Any) -> None:
    with pytest.raises(HttpResponseError) as caught:
        call(*args, **kwargs)
    assert caught.value.error is not None and caught.value.error.code == code


def test_create_pools(batch_client, unique_name):
    images = list(batch_client.list_supported_images())
    assert len(images) > 1 and images[-1].image_reference is not None

    prefix = unique_name("sdk-create")
    users = [
        models.UserAccount(name="test-user-1", password="secret"),
        models.UserAccount(
            name="test-user-2", password="secret", elevation_level=models.ElevationLevel.ADMIN
        ),
    ]
    iaas = pool_options(
        f"{prefix}_iaas",
        nodes=0,
        user_accounts=users,
        task_scheduling_policy=models.BatchTaskSchedulingPolicy(
            node_fill_type=models.BatchNodeFillType.PACK
        ),
    )
    assert batch_client.create_pool(iaas) is None
    counts = [c for c in batch_client.list_pool_node_counts() if c.pool_id == iaas.id]
    assert len(counts) == 1
    assert counts[0].dedicated.total == 0 and counts[0].dedicated.leaving_pool == 0
    assert counts[0].low_priority.total == 0

    network = pool_options(
        f"{prefix}_network",
        nodes=0,
        network_configuration=models.NetworkConfiguration(
            subnet_id="/subscriptions/00000000-0000-0000-0000-000000000000"
            "/resourceGroups/test/providers/Microsoft.Network"
            "/virtualNetworks/vnet1/subnets/subnet1"
        ),
    )
    batch_error("InvalidPropertyValue", batch_client.create_pool, network, timeout=45)
    fake_image = models.BatchPoolCreateOptions(
        id=f"{prefix}_image",
        vm_size="standard_d2_v2",
        virtual_machine_configuration=models.VirtualMachineConfiguration(
            image_reference=models.BatchVmImageReference(
                virtual_machine_image_id="/subscriptions/00000000-0000-0000-0000-000000000000"
                "/resourceGroups/test/providers/Microsoft.Compute/gallery/FakeGallery"
                "/images/FakeImage/versions/version"
            ),
            node_agent_sku_id="batch.node.ubuntu 22.04",
        ),
    )
    batch_error("InvalidPropertyValue", batch_client.create_pool, fake_image, timeout=45)

    config = image()
    config.data_disks = [models.DataDisk(logical_unit_number=1, disk_size_gb=50)]
    disk = models.BatchPoolCreateOptions(
        id=f"{prefix}_disk", vm_size="standard_d2_v2", virtual_machine_configuration=config
    )
    batch_client.create_pool(disk)
    got = batch_client.get_pool(disk.id)
    assert got.virtual_machine_configuration.data_disks[0].logical_unit_number == 1
    assert got.virtual_machine_configuration.data_disks[0].disk_size_gb == 50
    # Batch writes the default capitalised ("Spread"), which the SDK keeps as a string.
    assert got.task_scheduling_policy.node_fill_type.lower() == models.BatchNodeFillType.SPREAD
    app = pool_options(
        f"{prefix}_app", nodes=0, metadata=[models.BatchMetadataItem(name="app", value="maya")]
    )
    batch_client.create_pool(app)
    assert batch_client.get_pool(app.id).metadata[0].value == "maya"
    assert (
        batch_client.get_pool(iaas.id).user_accounts[1].elevation_level
        == models.ElevationLevel.ADMIN
    )

    mine = f"startswith(id,'{prefix}')"
    assert len(list(batch_client.list_pools(filter=mine))) == 3
    assert len(list(batch_client.list_pools(filter=mine, max_results=1))) == 3
    selected = list(
        batch_client.list_pools(
            filter=f"startswith(id,'{prefix}_app')", select=["id", "state"], expand=["stats"]
        )
    )
    assert [p.id for p in selected] == [app.id] and selected[0].vm_size is None


def test_update_pools(batch_client, unique_name):
    pool = pool_options(
        unique_name("sdk-update"),
        nodes=0,
        start_task=models.BatchStartTask(
            command_line='/bin/sh -c "echo hello world"',
            resource_files=[
                models.ResourceFile(http_url="https://contoso.com", file_path="filename.txt")
            ],
            environment_settings=[models.EnvironmentSetting(name="ENV_VAR", value="env_value")],
            user_identity=models.UserIdentity(
                auto_user=models.AutoUserSpecification(elevation_level=models.ElevationLevel.ADMIN)
            ),
        ),
    )
    batch_client.create_pool(pool)
    assert (
        batch_client.replace_pool_properties(
            pool.id,
            models.BatchPoolReplaceOptions(
                application_package_references=[],
                metadata=[models.BatchMetadataItem(name="foo", value="bar")],
            ),
        )
        is None
    )
    assert (
        batch_client.update_pool(
            pool.id,
            models.BatchPoolUpdateOptions(
                metadata=[models.BatchMetadataItem(name="foo2", value="bar2")]
            ),
        )
        is None
    )
    assert batch_client.pool_exists(pool.id)
    got = wait_for(
        lambda: batch_client.get_pool(pool.id),
        lambda p: p.allocation_state == models.AllocationState.STEADY,
        "steady pool",
    )
    assert got.state == models.BatchPoolState.ACTIVE and got.vm_size == "standard_d2s_v3"
    assert got.start_task is None
    assert (got.metadata[0].name, got.metadata[0].value) == ("foo2", "bar2")
    got = batch_client.get_pool(pool.id, select=["id", "state"], expand=["stats"])
    assert got.id == pool.id and got.state == models.BatchPoolState.ACTIVE
    assert got.allocation_state is None and got.vm_size is None
    batch_client.begin_delete_pool(pool.id, **POLL).result()
    # azure-batch 15.1 raises on the 404 of a pool that is gone.
    with pytest.raises(ResourceNotFoundError):
        batch_client.pool_exists(pool.id)


def test_scale_pools(batch_client, unique_name):
    pool_id = unique_name("sdk-scale")
    batch_client.create_pool(pool_options(pool_id, nodes=0))
    wait_for(
        lambda: batch_client.get_pool(pool_id),
        lambda p: p.allocation_state == models.AllocationState.STEADY,
        "steady pool",
    )
    assert (
        batch_client.enable_pool_auto_scale(
            pool_id,
            models.BatchPoolEnableAutoScaleOptions(
                auto_scale_formula="$TargetDedicatedNodes=2",
                auto_scale_evaluation_interval=datetime.timedelta(minutes=6),
            ),
        )
        is None
    )
    result = batch_client.evaluate_pool_auto_scale(
        pool_id,
        models.BatchPoolEvaluateAutoScaleOptions(auto_scale_formula="$TargetDedicatedNodes=3"),
    )
    assert isinstance(result, models.AutoScaleRun)
    assert result.results == (
        "$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue"
    )
    got = batch_client.get_pool(pool_id)
    assert got.enable_auto_scale and got.auto_scale_evaluation_interval == datetime.timedelta(
        minutes=6
    )
    assert batch_client.disable_pool_auto_scale(pool_id) is None
    batch_client.begin_resize_pool(
        pool_id,
        models.BatchPoolResizeOptions(target_dedicated_nodes=0, target_low_priority_nodes=2),
        **POLL,
    ).result()
    batch_client.begin_stop_pool_resize(pool_id, **POLL).result()
    assert list(batch_client.list_pool_usage_metrics()) == []


def test_compute_nodes(batch_client, unique_name):
    pool_id = unique_name("sdk-nodes")
    batch_client.create_pool(pool_options(pool_id, nodes=2))
    nodes = wait_for(
        lambda: list(batch_client.list_nodes(pool_id)),
        lambda ns: len(ns) == 2 and all(n.state == models.BatchNodeState.IDLE for n in ns),
        "two idle nodes",
    )
    node = batch_client.get_node(pool_id, nodes[0].id)
    assert node.scheduling_state == models.SchedulingState.ENABLED and node.is_dedicated
    assert node.node_agent_info is not None and node.node_agent_info.version is not None
    assert node.endpoint_configuration.inbound_endpoints[0].backend_port == 22
    # azure-batch 15.1 cannot send these calls without options (it fails to serialize None).
    assert (
        batch_client.disable_node_scheduling(
            pool_id,
            nodes[0].id,
            models.BatchNodeDisableSchedulingOptions(
                node_disable_scheduling_option=models.BatchNodeDisableSchedulingOption.REQUEUE
            ),
        )
        is None
    )
    assert (
        batch_client.get_node(pool_id, nodes[0].id).scheduling_state
        == models.SchedulingState.DISABLED
    )
    assert batch_client.enable_node_scheduling(pool_id, nodes[0].id) is None
    batch_client.begin_reboot_node(
        pool_id, nodes[0].id, hidden.BatchNodeRebootOptions(node_reboot_kind="terminate"), **POLL
    ).result()
    wait_for(
        lambda: batch_client.get_node(pool_id, nodes[0].id),
        lambda n: n.state == models.BatchNodeState.IDLE,
        "the rebooted node idle",
    )
    with pytest.raises(HttpResponseError) as caught:
        batch_client.begin_reimage_node(
            pool_id,
            nodes[1].id,
            hidden.BatchNodeReimageOptions(node_reimage_option="terminate"),
            **POLL,
        ).result()
    assert caught.value.error.code == "OperationNotValidOnNode"
    batch_client.begin_remove_nodes(
        pool_id, models.BatchNodeRemoveOptions(node_ids=[n.id for n in nodes]), **POLL
    ).result()
    assert list(batch_client.list_nodes(pool_id)) == []
    assert batch_client.get_pool(pool_id).current_dedicated_nodes == 0


def test_compute_node_user(batch_client, unique_name):
    pool_id = unique_name("sdk-user")
    batch_client.create_pool(pool_options(pool_id, nodes=1))
    node = wait_for(
        lambda: list(batch_client.list_nodes(pool_id)),
        lambda ns: len(ns) == 1 and ns[0].state == models.BatchNodeState.IDLE,
        "an idle node",
    )[0]
    user = models.BatchNodeUserCreateOptions(
        name="BatchPythonSDKUser", password="secret", is_admin=False
    )
    assert batch_client.create_node_user(pool_id, node.id, user) is None
    assert (
        batch_client.replace_node_user(
            pool_id,
            node.id,
            user.name,
            models.BatchNodeUserReplaceOptions(password="liilef#$DdRGSa_ewkjh"),
        )
        is None
    )
    login = batch_client.get_node_remote_login_settings(pool_id, node.id)
    assert isinstance(login, models.BatchNodeRemoteLoginSettings)
    assert login.remote_login_ip_address is not None and login.remote_login_port is not None
    assert batch_client.delete_node_user(pool_id, node.id, user.name) is None
    batch_error("NodeUserNotFound", batch_client.delete_node_user, pool_id, node.id, user.name)


def test_files(batch_client, unique_name):
    name = unique_name("sdk-files")
    pool_id, job_id = f"{name}-pool", f"{name}-job"
    batch_client.create_pool(pool_options(pool_id, nodes=1))
    batch_client.create_job(
        models.BatchJobCreateOptions(id=job_id, pool_info=models.BatchPoolInfo(pool_id=pool_id))
    )
    node_id = wait_for(
        lambda: list(batch_client.list_nodes(pool_id)), lambda ns: len(ns) == 1, "a node"
    )[0].id
    batch_client.create_task(
        job_id,
        models.BatchTaskCreateOptions(id="test_task", command_line='/bin/sh -c "echo hello world"'),
    )
    added = batch_client.get_task(job_id, "test_task")
    done = wait_task_completed(batch_client, job_id, "test_task")
    # Batch's own state changes keep the eTag (Azure's recorded task kept it to completion).
    assert (done.etag, done.last_modified) == (added.etag, added.last_modified)

    only_files = [
        f
        for f in batch_client.list_node_files(pool_id, node_id, recursive=True)
        if not f.is_directory
    ]
    assert len(only_files) >= 2
    props = batch_client.get_node_file_properties(pool_id, node_id, only_files[0].name)
    length = props.content_length
    assert length == len(
        b"".join(batch_client.download_node_file(pool_id, node_id, only_files[0].name))
    )
    assert batch_client.delete_node_file(pool_id, node_id, only_files[0].name) is None

    only_files = [
        f for f in batch_client.list_task_files(job_id, "test_task") if not f.is_directory
    ]
    assert len(only_files) >= 1
    stdout = next(f for f in only_files if f.name == "stdout.txt")
    props = batch_client.get_task_file_properties(job_id, "test_task", stdout.name)
    data = b"".join(batch_client.download_task_file(job_id, "test_task", stdout.name))
    assert len(data) == props.content_length and b"hello world" in data
    assert batch_client.delete_task_file(job_id, "test_task", stdout.name) is None
    assert "stdout.txt" not in [f.name for f in batch_client.list_task_files(job_id, "test_task")]


def test_tasks(batch_client, unique_name):
    name = unique_name("sdk-tasks")
    job_id = f"{name}-job"
    # No nodes: the tasks stay active, as the SDK test's never run on its job's pool.
    batch_client.create_pool(pool_options(f"{name}-pool", nodes=0))
    batch_client.create_job(
        models.BatchJobCreateOptions(
            id=job_id,
            pool_info=models.BatchPoolInfo(pool_id=f"{name}-pool"),
            task_failure_mode=models.BatchTaskFailureMode.PERFORM_EXIT_OPTIONS_JOB_ACTION,
        )
    )
    exit_conditions = models.ExitConditions(
        exit_codes=[
            models.ExitCodeMapping(
                code=1,
                exit_options=models.ExitOptions(job_action=models.BatchJobActionKind.TERMINATE),
            )
        ],
        exit_code_ranges=[
            models.ExitCodeRangeMapping(
                start=2,
                end=4,
                exit_options=models.ExitOptions(job_action=models.BatchJobActionKind.DISABLE),
            )
        ],
        default=models.ExitOptions(job_action=models.BatchJobActionKind.NONE),
    )
    batch_client.create_task(
        job_id,
        models.BatchTaskCreateOptions(
            id="batch_task1", command_line="echo hello world", exit_conditions=exit_conditions
        ),
    )
    task = batch_client.get_task(job_id, "batch_task1")
    assert task.exit_conditions.default.job_action == models.BatchJobActionKind.NONE
    assert task.exit_conditions.exit_codes[0].code == 1
    assert (
        task.exit_conditions.exit_codes[0].exit_options.job_action
        == models.BatchJobActionKind.TERMINATE
    )

    container = "https://test.blob.core.windows.net:443/test-container"
    outputs = [
        models.OutputFile(
            file_pattern=f"../{stream}.txt",
            destination=models.OutputFileDestination(
                container=models.OutputFileBlobContainerDestination(
                    container_url=container, path=f"taskLogs/{stream}.txt"
                )
            ),
            upload_options=models.OutputFileUploadConfiguration(upload_condition=condition),
        )
        for stream, condition in (
            ("stdout", models.OutputFileUploadCondition.TASK_COMPLETION),
            ("stderr", models.OutputFileUploadCondition.TASK_FAILURE),
        )
    ]
    batch_client.create_task(
        job_id,
        models.BatchTaskCreateOptions(
            id="batch_task2", command_line="echo hello world", output_files=outputs
        ),
    )
    assert len(batch_client.get_task(job_id, "batch_task2").output_files) == 2
    auto_user = models.AutoUserSpecification(
        scope=models.AutoUserScope.TASK, elevation_level=models.ElevationLevel.ADMIN
    )
    batch_client.create_task(
        job_id,
        models.BatchTaskCreateOptions(
            id="batch_task3",
            command_line="echo hello world",
            user_identity=models.UserIdentity(auto_user=auto_user),
        ),
    )
    task = batch_client.get_task(job_id, "batch_task3")
    assert task.user_identity.auto_user.scope == models.AutoUserScope.TASK
    assert task.user_identity.auto_user.elevation_level == models.ElevationLevel.ADMIN
    batch_client.create_task(
        job_id,
        models.BatchTaskCreateOptions(
            id="batch_task4",
            command_line="echo hello world",
            constraints=models.BatchTaskConstraints(max_task_retry_count=2),
        ),
    )
    assert batch_client.get_task(job_id, "batch_task4").constraints.max_task_retry_count == 2
    batch_client.create_task(
        job_id,
        models.BatchTaskCreateOptions(
            id="batch_task5",
            command_line="echo hello world",
            container_settings=models.BatchTaskContainerSettings(
                image_name="windows_container:latest",
                registry=models.ContainerRegistryReference(
                    username="username", password="password"
                ),
            ),
        ),
    )
    task = batch_client.get_task(job_id, "batch_task5")
    assert task.container_settings.image_name == "windows_container:latest"
    assert task.container_settings.registry.username == "username"
    batch_client.create_task(
        job_id,
        models.BatchTaskCreateOptions(
            id="batch_task6",
            command_line="echo hello world",
            user_identity=models.UserIdentity(username="task-user"),
        ),
    )
    assert batch_client.get_task(job_id, "batch_task6").user_identity.username == "task-user"

    result = batch_client.create_task_collection(
        job_id,
        models.BatchTaskGroup(
            task_values=[
                models.BatchTaskCreateOptions(id=f"batch_task{i}", command_line="echo hello world")
                for i in range(7, 10)
            ]
        ),
    )
    assert len(result.result_values) == 3
    assert result.result_values[0].status == models.BatchTaskAddStatus.SUCCESS
    assert len(list(batch_client.list_tasks(job_id))) == 9
    counts = batch_client.get_job_task_counts(job_id)
    assert counts.task_counts.completed == 0 and counts.task_counts.succeeded == 0

    assert batch_client.terminate_task(job_id, "batch_task6") is None
    assert batch_client.get_task(job_id, "batch_task6").state == models.BatchTaskState.COMPLETED
    assert batch_client.reactivate_task(job_id, "batch_task6") is None
    assert batch_client.get_task(job_id, "batch_task6").state == models.BatchTaskState.ACTIVE
    assert (
        batch_client.replace_task(
            job_id,
            "batch_task6",
            models.BatchTask(constraints=models.BatchTaskConstraints(max_task_retry_count=1)),
        )
        is None
    )
    assert batch_client.get_task(job_id, "batch_task6").constraints.max_task_retry_count == 1
    assert list(batch_client.list_subtasks(job_id, "batch_task6")) == []
    assert batch_client.delete_task(job_id, "batch_task6") is None

    too_big = models.BatchTaskCreateOptions(
        id="mytask",
        command_line="sleep 1",
        resource_files=[
            models.ResourceFile(
                http_url=f"https://mystorageaccount.blob.core.windows.net/files/resourceFile{i}",
                file_path=f"resourceFile{i}",
            )
            for i in range(10000)
        ],
    )
    with pytest.raises(models.CreateTasksError) as caught:
        batch_client.create_tasks(job_id, [too_big])
    assert caught.value.errors and caught.value.errors[-1].error.code == "RequestBodyTooLarge"

    files = [
        models.ResourceFile(
            http_url=f"https://mystorageaccount.blob.core.windows.net/files/resourceFile{i}",
            file_path=f"resourceFile{i}",
        )
        for i in range(100)
    ]
    added = batch_client.create_tasks(
        job_id,
        [
            models.BatchTaskCreateOptions(
                id=f"mytask{i}", command_line="sleep 1", resource_files=files
            )
            for i in range(733)
        ],
    )
    assert len(added.result_values) == 733
    assert all(t.status == models.BatchTaskAddStatus.SUCCESS for t in added.result_values)


def test_jobs(batch_client, unique_name):
    name = unique_name("sdk-jobs")
    auto_pool = models.BatchAutoPoolSpecification(
        pool_lifetime_option=models.BatchPoolLifetimeOption.JOB,
        pool=models.BatchPoolSpecification(
            vm_size="standard_d2_v2", virtual_machine_configuration=image()
        ),
    )
    job = models.BatchJobCreateOptions(
        id=f"{name}_job1",
        pool_info=models.BatchPoolInfo(auto_pool_specification=auto_pool),
        job_preparation_task=models.BatchJobPreparationTask(command_line="echo hello world"),
        job_release_task=models.BatchJobReleaseTask(command_line="echo goodbye world"),
    )
    assert batch_client.create_job(job, ocp_date=datetime.datetime.now()) is None
    assert (
        batch_client.replace_job(
            job.id,
            models.BatchJob(
                priority=500,
                constraints=models.BatchJobConstraints(max_task_retry_count=3),
                pool_info=models.BatchPoolInfo(auto_pool_specification=auto_pool),
            ),
        )
        is None
    )
    assert batch_client.update_job(job.id, models.BatchJobUpdateOptions(priority=900)) is None
    got = batch_client.get_job(job.id)
    assert got.id == job.id and got.constraints.max_task_retry_count == 3
    assert got.priority == 900
    assert got.job_preparation_task.id == "jobpreparation"

    auto = models.BatchJobCreateOptions(
        id=f"{name}_job2",
        all_tasks_complete_mode=models.BatchAllTasksCompleteMode.TERMINATE_JOB,
        task_failure_mode=models.BatchTaskFailureMode.PERFORM_EXIT_OPTIONS_JOB_ACTION,
        pool_info=models.BatchPoolInfo(auto_pool_specification=auto_pool),
    )
    assert batch_client.create_job(auto) is None
    got = batch_client.get_job(auto.id)
    assert got.all_tasks_complete_mode == models.BatchAllTasksCompleteMode.TERMINATE_JOB
    assert got.task_failure_mode == models.BatchTaskFailureMode.PERFORM_EXIT_OPTIONS_JOB_ACTION
    assert len(list(batch_client.list_jobs(filter=f"startswith(id,'{name}')"))) == 2

    batch_client.begin_disable_job(
        job.id,
        models.BatchJobDisableOptions(disable_tasks=models.DisableBatchJobOption.REQUEUE),
        **POLL,
    ).result()
    assert batch_client.get_job(job.id).state == models.BatchJobState.DISABLED
    batch_client.begin_enable_job(job.id, **POLL).result()
    assert list(batch_client.list_job_preparation_and_release_task_status(job.id)) == []
    batch_client.begin_terminate_job(
        job.id, hidden.BatchJobTerminateOptions(termination_reason="UserTerminate"), **POLL
    ).result()
    assert batch_client.get_job(job.id).state == models.BatchJobState.COMPLETED
    batch_client.begin_delete_job(auto.id, **POLL).result()
    with pytest.raises(ResourceNotFoundError) as caught:
        batch_client.get_job(auto.id)
    assert caught.value.error.code == "JobNotFound"
