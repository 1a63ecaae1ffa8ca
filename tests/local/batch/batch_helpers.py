"""Helpers for the Batch tests: pool and job bodies, SAS URLs on Azurite, waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from azure.batch import models as bm
from waiting import wait_for


def image() -> bm.VirtualMachineConfiguration:
    return bm.VirtualMachineConfiguration(
        image_reference=bm.BatchVmImageReference(
            publisher="canonical", offer="0001-com-ubuntu-server-jammy", sku="22_04-lts"
        ),
        node_agent_sku_id="batch.node.ubuntu 22.04",
    )


def pool_options(
    pool_id: str,
    nodes: int = 1,
    slots: int = 1,
    start_task: bm.BatchStartTask | None = None,
    **kwargs: Any,
) -> Any:
    return bm.BatchPoolCreateOptions(
        id=pool_id,
        vm_size="STANDARD_D2S_V3",
        virtual_machine_configuration=image(),
        target_dedicated_nodes=nodes,
        task_slots_per_node=slots,
        start_task=start_task,
        **kwargs,
    )


def make_pool_and_job(client: Any, name: str, **pool_kwargs: Any) -> tuple[str, str]:
    pool_id, job_id = f"{name}-pool", f"{name}-job"
    client.create_pool(pool_options(pool_id, **pool_kwargs))
    client.create_job(
        bm.BatchJobCreateOptions(id=job_id, pool_info=bm.BatchPoolInfo(pool_id=pool_id))
    )
    return pool_id, job_id


def wait_task_completed(client: Any, job_id: str, task_id: str) -> Any:
    return wait_for(
        lambda: client.get_task(job_id, task_id),
        lambda t: t.state == bm.BatchTaskState.COMPLETED,
        f"task {task_id}",
    )


def read_file(client: Any, job_id: str, task_id: str, path: str) -> str:
    return b"".join(client.download_task_file(job_id, task_id, path)).decode()


def blob_sas_url(blob_service: Any, container: str, blob: str, hours: float = 1.0) -> str:
    from azure.storage.blob import BlobSasPermissions, generate_blob_sas

    sas = generate_blob_sas(
        blob_service.account_name,
        container,
        blob,
        account_key=blob_service.credential.account_key,
        permission=BlobSasPermissions(read=True),
        expiry=datetime.now(UTC) + timedelta(hours=hours),
    )
    return f"{blob_service.url.rstrip('/')}/{container}/{blob}?{sas}"


def container_sas_url(
    blob_service: Any, container: str, write: bool = False, hours: float = 1.0
) -> str:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    permission = (
        ContainerSasPermissions(write=True, create=True)
        if write
        else ContainerSasPermissions(read=True, list=True)
    )
    sas = generate_container_sas(
        blob_service.account_name,
        container,
        account_key=blob_service.credential.account_key,
        permission=permission,
        expiry=datetime.now(UTC) + timedelta(hours=hours),
    )
    return f"{blob_service.url.rstrip('/')}/{container}?{sas}"


def output_file(
    pattern: str, container_url: str, path: str | None = None, condition: str = "taskcompletion"
) -> Any:
    return bm.OutputFile(
        file_pattern=pattern,
        destination=bm.OutputFileDestination(
            container=bm.OutputFileBlobContainerDestination(container_url=container_url, path=path)
        ),
        upload_options=bm.OutputFileUploadConfiguration(upload_condition=condition),
    )
