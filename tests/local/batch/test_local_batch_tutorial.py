"""The Batch Python tutorial's own flow (seeds: python_tutorial_client.py), ported to
azure-batch 15 and azure-storage-blob 12, against the endpoints ``runner local status``
prints. Only the endpoint, the credential and ``connection_verify`` differ from Azure.

The port keeps the tutorial's steps and names: containers, uploads with SAS, a pool whose
start task copies the task script to the shared folder, a job, one task per input file,
monitoring until completed, output download, then deletes. The start task no longer runs
``apt-get``/``pip`` (no package index is reachable); the task script is the stdlib port in
``tutorial/``.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from azure.batch import BatchClient
from azure.batch import models as batchmodels
from azure.core.credentials import AzureNamedKeyCredential
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import (
    BlobSasPermissions,
    BlobServiceClient,
    ContainerSasPermissions,
    generate_blob_sas,
    generate_container_sas,
)

pytestmark = pytest.mark.integration

TUTORIAL = Path(__file__).parent / "tutorial"
TEXTS = {
    "taskdata1.txt": "the cat and the hat and the bat\n",
    "taskdata2.txt": "to be or not to be that is the question to be\n",
    "taskdata3.txt": "a rose is a rose is a rose\n",
}
EXPECTED = {
    "taskdata1_OUTPUT.txt": "the: 3\nand: 2\ncat: 1\n",
    "taskdata2_OUTPUT.txt": "to: 3\nbe: 3\nor: 1\n",
    "taskdata3_OUTPUT.txt": "a: 3\nrose: 3\nis: 2\n",
}


def printed_status() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "runner", "local", "status", "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return dict(json.loads(out.stdout))


def wrap_commands_in_shell(commands: list[str]) -> str:
    return "/bin/bash -c 'set -e; set -o pipefail; {}; wait'".format(";".join(commands))


def upload_file_to_container(
    blob_client: BlobServiceClient, container_name: str, file_path: Path
) -> batchmodels.ResourceFile:
    blob_name = file_path.name
    with file_path.open("rb") as data:
        blob_client.get_blob_client(container_name, blob_name).upload_blob(data, overwrite=True)
    sas_token = generate_blob_sas(
        blob_client.account_name,
        container_name,
        blob_name,
        account_key=blob_client.credential.account_key,
        permission=BlobSasPermissions(read=True),
        expiry=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2),
    )
    sas_url = f"{blob_client.url.rstrip('/')}/{container_name}/{blob_name}?{sas_token}"
    return batchmodels.ResourceFile(http_url=sas_url, file_path=blob_name)


def get_container_sas_token(blob_client: BlobServiceClient, container_name: str) -> str:
    return generate_container_sas(
        blob_client.account_name,
        container_name,
        account_key=blob_client.credential.account_key,
        permission=ContainerSasPermissions(write=True),
        expiry=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=2),
    )


def select_latest_verified_vm_image_with_node_agent_sku(
    batch_client: BatchClient, publisher: str, offer: str, sku_starts_with: str
) -> tuple[str, batchmodels.BatchVmImageReference]:
    # The tutorial's common.helpers function, on list_supported_images.
    images = batch_client.list_supported_images(filter="verificationType eq 'verified'")
    skus_to_use = [
        (image.node_agent_sku_id, image.image_reference)
        for image in images
        if image.image_reference.publisher.lower() == publisher.lower()
        and image.image_reference.offer.lower() == offer.lower()
        and image.image_reference.sku.startswith(sku_starts_with)
    ]
    return skus_to_use[0]


def create_pool(
    batch_client: BatchClient, pool_id: str, resource_files: list[batchmodels.ResourceFile]
) -> None:
    task_commands = ["cp -p python_tutorial_task.py $AZ_BATCH_NODE_SHARED_DIR"]
    sku_to_use, image_ref_to_use = select_latest_verified_vm_image_with_node_agent_sku(
        batch_client, "Canonical", "0001-com-ubuntu-server-jammy", "22_04"
    )
    new_pool = batchmodels.BatchPoolCreateOptions(
        id=pool_id,
        virtual_machine_configuration=batchmodels.VirtualMachineConfiguration(
            image_reference=image_ref_to_use, node_agent_sku_id=sku_to_use
        ),
        vm_size="STANDARD_A1_v2",
        target_dedicated_nodes=1,
        start_task=batchmodels.BatchStartTask(
            command_line=wrap_commands_in_shell(task_commands),
            user_identity=batchmodels.UserIdentity(
                auto_user=batchmodels.AutoUserSpecification(
                    scope=batchmodels.AutoUserScope.POOL,
                    elevation_level=batchmodels.ElevationLevel.ADMIN,
                )
            ),
            wait_for_success=True,
            resource_files=resource_files,
        ),
    )
    batch_client.create_pool(new_pool)


def create_job(batch_client: BatchClient, job_id: str, pool_id: str) -> None:
    batch_client.create_job(
        batchmodels.BatchJobCreateOptions(
            id=job_id, pool_info=batchmodels.BatchPoolInfo(pool_id=pool_id)
        )
    )


def add_tasks(
    batch_client: BatchClient,
    job_id: str,
    input_files: list[Any],
    account: str,
    blob_endpoint: str,
    output_container_name: str,
    output_container_sas_token: str,
) -> None:
    tasks = []
    for idx, input_file in enumerate(input_files):
        command = [
            f"python3 $AZ_BATCH_NODE_SHARED_DIR/python_tutorial_task.py "
            f"--filepath {input_file.file_path} --numwords 3 --storageaccount {account} "
            f"--storagecontainer {output_container_name} "
            f'--sastoken "{output_container_sas_token}" --blobendpoint {blob_endpoint}'
        ]
        tasks.append(
            batchmodels.BatchTaskCreateOptions(
                id=f"topNtask{idx}",
                command_line=wrap_commands_in_shell(command),
                resource_files=[input_file],
            )
        )
    batch_client.create_tasks(job_id, tasks)


def wait_for_tasks_to_complete(
    batch_client: BatchClient, job_id: str, timeout: datetime.timedelta
) -> bool:
    timeout_expiration = datetime.datetime.now() + timeout
    while datetime.datetime.now() < timeout_expiration:
        tasks = batch_client.list_tasks(job_id)
        incomplete = [t for t in tasks if t.state != batchmodels.BatchTaskState.COMPLETED]
        if not incomplete:
            return True
        time.sleep(0.2)
    raise RuntimeError(f"ERROR: Tasks did not reach 'Completed' state within {timeout}")


def download_blobs_from_container(
    blob_client: BlobServiceClient, container_name: str, directory_path: Path
) -> None:
    container = blob_client.get_container_client(container_name)
    for blob in container.list_blobs():
        destination_file_path = directory_path / blob.name
        destination_file_path.write_bytes(container.download_blob(blob.name).readall())


def test_batch_python_tutorial_runs_against_the_printed_endpoints(emulator, tmp_path, unique_name):
    status = printed_status()
    storage_account = status["storage"]["account"]
    blob_client = BlobServiceClient.from_connection_string(status["storage"]["connection_string"])
    prefix = unique_name("tutorial")
    app_container_name, input_container_name, output_container_name = (
        f"{prefix}-application",
        f"{prefix}-input",
        f"{prefix}-output",
    )
    for name in (app_container_name, input_container_name, output_container_name):
        with contextlib.suppress(ResourceExistsError):  # the tutorial's fail_on_exist=False
            blob_client.create_container(name)

    data = tmp_path / "data"
    data.mkdir()
    for name, text in TEXTS.items():
        (data / name).write_text(text)
    application_files = [
        upload_file_to_container(
            blob_client, app_container_name, TUTORIAL / "python_tutorial_task.py"
        )
    ]
    input_files = [
        upload_file_to_container(blob_client, input_container_name, data / name)
        for name in sorted(TEXTS)
    ]
    output_container_sas_token = get_container_sas_token(blob_client, output_container_name)

    batch_client = BatchClient(
        status["batch"]["url"],
        AzureNamedKeyCredential(status["batch"]["account"], status["batch"]["key"]),
        connection_verify=status["ca_bundle"],
    )
    pool_id, job_id = "PythonTutorialPool", "PythonTutorialJob"
    create_pool(batch_client, pool_id, application_files)
    create_job(batch_client, job_id, pool_id)
    add_tasks(
        batch_client,
        job_id,
        input_files,
        storage_account,
        status["storage"]["blob_endpoint"],
        output_container_name,
        output_container_sas_token,
    )
    assert wait_for_tasks_to_complete(batch_client, job_id, datetime.timedelta(minutes=2))

    for task in batch_client.list_tasks(job_id):
        assert task.execution_info.exit_code == 0, b"".join(
            batch_client.download_task_file(job_id, task.id, "stderr.txt")
        )

    output = tmp_path / "output"
    output.mkdir()
    download_blobs_from_container(blob_client, output_container_name, output)
    assert {p.name: p.read_text() for p in output.iterdir()} == EXPECTED

    for name in (app_container_name, input_container_name, output_container_name):
        blob_client.delete_container(name)
    batch_client.begin_delete_job(job_id, polling_interval=0).result()
    batch_client.begin_delete_pool(pool_id, polling_interval=0).result()
    assert pool_id not in {p.id for p in batch_client.list_pools()}
    assert not os.path.exists(Path(os.environ["RUNNER_LOCAL_DIR"]) / "batch" / "nodes" / pool_id)
