"""Azure Batch live state and actuators for a ``BatchJob``: read the pool, job, tasks and
blobs; create, update and delete the pool and job. Tasks are in ``batch_tasks.py``.

Every Azure exception leaves through ``runner.backends.errors.translate``; a resource
that is not found is read as absent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from azure.batch import models as bm

# azure-batch 15.1 takes this type in begin_terminate_job but does not export it.
from azure.batch.models._models import BatchJobTerminateOptions
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from runner.backends.batch_autoscale import create_sizing, observed_auto_scale, resize
from runner.backends.batch_metadata import owner_metadata, parse_items
from runner.backends.batch_tasks import IDENTITY_SETTING
from runner.backends.blob import read_blobs, read_containers
from runner.backends.errors import error_code, translate
from runner.backends.results_blob import read_outputs
from runner.backends.sas import SasSigner
from runner.errors import RunnerError, TemporaryError
from runner.plan.batch import (
    ObservedBatch,
    ObservedBlob,
    ObservedJob,
    ObservedPool,
    ObservedTask,
)
from runner.plan.batch_desired import DesiredBatch
from runner.plan.canonical import SENSITIVE
from runner.plan.ownership import Ownership

if TYPE_CHECKING:
    from azure.batch import BatchClient

    from runner.backends.target import Target
    from runner.spec.models import BatchJob

TASK_SELECT = ["id", "state", "executionInfo", "commandLine", "environmentSettings"]


def batch_client(spec: BatchJob, target: Target) -> BatchClient:
    return target.batch_client(spec.batch.account, spec.batch.url)


def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except ResourceNotFoundError:
        return None
    except Exception as exc:
        raise translate(exc) from exc


def enum_text(value: Any) -> str:
    """An SDK enum or plain string as Batch's lower-case text (``completed``)."""
    return str(getattr(value, "value", value) or "").lower()


def _metadata(desired: DesiredBatch, workspace: str, hash_: str) -> list[bm.BatchMetadataItem]:
    items = owner_metadata(desired.spec.name, workspace, hash_, desired.stamp).items()
    return [bm.BatchMetadataItem(name=k, value=v) for k, v in items]


def _observed_pool(pool: bm.BatchPool) -> ObservedPool:
    vmc = pool.virtual_machine_configuration
    image = vmc.image_reference if vmc else None
    start = pool.start_task
    return ObservedPool(
        id=pool.id,
        state=enum_text(pool.state),
        owner=parse_items(pool.metadata),
        allocation_state=enum_text(pool.allocation_state),
        vm_size=pool.vm_size or "",
        image={
            "publisher": image.publisher or "",
            "offer": image.offer or "",
            "sku": image.sku or "",
            "version": image.version or "latest",
        }
        if image
        else {},
        node_agent_sku=vmc.node_agent_sku_id if vmc else "",
        task_slots_per_node=pool.task_slots_per_node or 1,
        network=pool.network_configuration is not None,
        nodes=pool.target_dedicated_nodes or 0,
        low_priority_nodes=pool.target_low_priority_nodes or 0,
        start_task=None
        if start is None
        else {
            "commandLine": start.command_line,
            "files": sorted(f.file_path or "" for f in start.resource_files or ()),
            "waitForSuccess": bool(start.wait_for_success),
        },
        container_configuration=_observed_containers(vmc.container_configuration if vmc else None),
        auto_scale=observed_auto_scale(pool),
    )


def _observed_containers(config: bm.BatchContainerConfiguration | None) -> dict[str, Any] | None:
    if config is None:
        return None
    return {
        "type": str(getattr(config.type, "value", config.type)),
        "containerImageNames": list(config.container_image_names or ()),
        "containerRegistries": [
            # Batch never returns the password: shown as the plan shows the spec's.
            {
                "registryServer": (r.registry_server or "").lower(),
                "username": r.username,
                "password": SENSITIVE,
            }
            for r in config.container_registries or ()
        ],
    }


def _observed_task(task: bm.BatchTask) -> ObservedTask:
    info = task.execution_info
    failure = info.failure_info if info else None
    return ObservedTask(
        id=task.id,
        state=enum_text(task.state),
        exit_code=info.exit_code if info else None,
        failure=": ".join(p for p in (failure.code, failure.message) if p) or "failed"
        if failure
        else None,
        identity=next(
            (e.value for e in task.environment_settings or () if e.name == IDENTITY_SETTING),
            None,
        ),
        command_line=task.command_line,
    )


def read_tasks(
    client: BatchClient, job_id: str, state: str | None = None
) -> dict[str, ObservedTask]:
    """Every task of the job (or only those in ``state``) with state, exit code and what
    it was added to run (one paged list, 5 fields each)."""
    where = f"state eq '{state}'" if state else None
    tasks = _call(lambda: list(client.list_tasks(job_id, select=TASK_SELECT, filter=where)))
    return {t.id: _observed_task(t) for t in tasks or ()}


def read_batch_state(spec: BatchJob, target: Target, workspace: str) -> ObservedBatch:
    client = batch_client(spec, target)
    pool = _call(client.get_pool, spec.pool.id)
    job = _call(client.get_job, spec.job.id)
    tasks = read_tasks(client, spec.job.id) if job is not None else {}
    service = target.blob_service(spec.storage.account)
    app, inputs = spec.container_name("application"), spec.container_name("input")
    containers = read_containers(service, [app, inputs, spec.container_name("output")])
    blobs = {}
    for name in dict.fromkeys((app, inputs)):
        if name in containers:
            blobs.update(read_blobs(service, name))
    outputs: dict[str, ObservedBlob] = {}
    record = None
    if spec.container_name("output") in containers:
        outputs, record = read_outputs(service, spec.container_name("output"))
    return ObservedBatch(
        image_capabilities=image_capabilities(client, spec) if spec.pool.containers else None,
        pool=None if pool is None else _observed_pool(pool),
        job=None
        if job is None
        else ObservedJob(
            id=job.id,
            state=enum_text(job.state),
            pool_id=job.pool_info.pool_id if job.pool_info else "",
            owner=parse_items(job.metadata),
            uses_task_dependencies=bool(job.uses_task_dependencies),
            environment={
                e.name: e.value or "" for e in job.common_environment_settings or () if e.name
            },
        ),
        tasks=tasks,
        containers=containers,
        blobs=blobs,
        outputs=outputs,
        record=record,
    )


def image_capabilities(client: BatchClient, spec: BatchJob) -> tuple[str, ...] | None:
    """The capabilities the account's supported-images entry of the pool's image and node
    agent lists, or None when it lists no such image."""
    image, agent = spec.pool.image, spec.pool.node_agent_sku.lower()
    wanted = (image.publisher.lower(), image.offer.lower(), image.sku.lower())
    for entry in _call(lambda: list(client.list_supported_images())) or ():
        ref = entry.image_reference
        found = ((ref.publisher or "").lower(), (ref.offer or "").lower(), (ref.sku or "").lower())
        if found == wanted and (entry.node_agent_sku_id or "").lower() == agent:
            return tuple(entry.capabilities or ())
    return None


def container_configuration(
    desired: DesiredBatch, environ: Mapping[str, str]
) -> bm.BatchContainerConfiguration | None:
    """The pool's containerConfiguration, each registry's password read from ``environ``
    now: it is in no spec and no plan."""
    containers = desired.spec.pool.containers
    if containers is None:
        return None
    registries = []
    for registry in containers.registries:
        password = environ.get(registry.password_env)
        if not password:
            raise RunnerError(
                f"registry {registry.server!r}: the environment variable "
                f"{registry.password_env} that holds its password is not set; nothing was "
                "created for the pool"
            )
        registries.append(
            bm.ContainerRegistryReference(
                registry_server=registry.server, username=registry.username, password=password
            )
        )
    return bm.BatchContainerConfiguration(
        type=containers.type,
        container_image_names=list(containers.images) or None,
        container_registries=registries or None,
    )


def _start_task(desired: DesiredBatch, signer: SasSigner) -> bm.BatchStartTask | None:
    start = desired.pool.get("startTask")
    if start is None:
        return None
    files = [
        bm.ResourceFile(http_url=signer.read_blob(f.container, f.blob), file_path=f.blob)
        for f in desired.app_files
    ]
    return bm.BatchStartTask(
        command_line=start["commandLine"],
        resource_files=files,
        wait_for_success=start["waitForSuccess"],
    )


# A pool or job of the same id still being deleted (a previous run's teardown): the
# create succeeds once it is gone.
BEING_DELETED = frozenset({"PoolBeingDeleted", "JobBeingDeleted"})


def _create(fn: Any, options: Any) -> None:
    try:
        fn(options)
    except HttpResponseError as exc:
        if error_code(exc) in BEING_DELETED:
            raise TemporaryError(f"{error_code(exc)}: {options.id}", delay=2.0) from exc
        raise translate(exc) from exc
    except Exception as exc:
        raise translate(exc) from exc


def create_pool(
    client: BatchClient, desired: DesiredBatch, signer: SasSigner, workspace: str
) -> None:
    p = desired.spec.pool
    options = bm.BatchPoolCreateOptions(
        id=p.id,
        vm_size=p.vm_size,
        virtual_machine_configuration=bm.VirtualMachineConfiguration(
            image_reference=bm.BatchVmImageReference(
                publisher=p.image.publisher,
                offer=p.image.offer,
                sku=p.image.sku,
                version=p.image.version,
            ),
            node_agent_sku_id=p.node_agent_sku,
            container_configuration=container_configuration(desired, os.environ),
        ),
        **create_sizing(desired),
        task_slots_per_node=p.task_slots_per_node,
        start_task=_start_task(desired, signer),
        metadata=_metadata(desired, workspace, desired.pool_hash),
    )
    _create(client.create_pool, options)


def update_pool(
    client: BatchClient,
    desired: DesiredBatch,
    signer: SasSigner,
    workspace: str,
    nodes: int | None,
) -> None:
    """Start task and metadata by PATCH; then the size: node counts by a resize when they
    differ, or the autoscale formula (``batch_autoscale.resize``)."""
    p = desired.spec.pool
    patch = bm.BatchPoolUpdateOptions(
        start_task=_start_task(desired, signer),
        metadata=_metadata(desired, workspace, desired.pool_hash),
    )
    try:
        client.update_pool(p.id, patch)
    except Exception as exc:
        raise translate(exc) from exc
    resize(client, desired, nodes)


def create_job(client: BatchClient, desired: DesiredBatch, workspace: str) -> None:
    options = bm.BatchJobCreateOptions(
        id=desired.spec.job.id,
        pool_info=bm.BatchPoolInfo(pool_id=desired.spec.pool.id),
        metadata=_metadata(desired, workspace, desired.job_hash),
        uses_task_dependencies=desired.uses_dependencies or None,
        common_environment_settings=[
            bm.EnvironmentSetting(name=k, value=v) for k, v in desired.job_environment.items()
        ]
        or None,
    )
    _create(client.create_job, options)


# Already stopped, or going: a terminate has nothing left to do.
TERMINATED = frozenset({"JobCompleted", "JobBeingDeleted", "JobBeingTerminated"})


def terminate_job(client: BatchClient, job_id: str, reason: str) -> bool:
    """Stop the job's work: running tasks are terminated, waiting ones never scheduled.
    Options with a reason are always sent: azure-batch 15.1 sets the Content-Type only
    when the options carry a value, and otherwise sends the POST with none. The reason
    shows as the job's ``executionInfo.terminateReason``. False when the job is absent."""
    options = BatchJobTerminateOptions(termination_reason=reason)
    try:
        client.begin_terminate_job(job_id, options, polling_interval=1)
    except ResourceNotFoundError:
        return False
    except HttpResponseError as exc:
        if error_code(exc) in TERMINATED:
            return True
        raise translate(exc) from exc
    except Exception as exc:
        raise translate(exc) from exc
    return True


def delete_pool(client: BatchClient, pool_id: str) -> bool:
    """Start deleting the pool (Batch finishes it in the background); False if absent."""
    return _call(client.begin_delete_pool, pool_id, polling_interval=1) is not None


def delete_job(client: BatchClient, job_id: str) -> bool:
    return _call(client.begin_delete_job, job_id, polling_interval=1) is not None


def job_exists(client: BatchClient, job_id: str) -> bool:
    """True while the job is there, being deleted included: the engine polls this before
    it makes one of the same id."""
    return _call(client.get_job, job_id, select=["id", "state"]) is not None


def list_owned(
    client: BatchClient, workspace: str
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """``(id, spec, state)`` of the pools and of the jobs this workspace's runner made."""
    select = ["id", "metadata", "state"]
    pools = _call(lambda: list(client.list_pools(select=select))) or []
    jobs = _call(lambda: list(client.list_jobs(select=select))) or []

    def mine(items: list[Any]) -> list[tuple[str, str, str]]:
        owners = ((i, parse_items(i.metadata)) for i in items)
        return [
            (i.id, o.spec or "?", enum_text(i.state))
            for i, o in owners
            if o.managed and o.workspace == workspace
        ]

    return mine(pools), mine(jobs)


def list_managed(
    client: BatchClient,
) -> tuple[list[tuple[str, Ownership, str]], list[tuple[str, Ownership, str]]]:
    """``(id, ownership, state)`` of the pools and of the jobs any runner made, whatever
    its workspace (what ``runner gc`` looks through)."""
    select = ["id", "metadata", "state"]
    pools = _call(lambda: list(client.list_pools(select=select))) or []
    jobs = _call(lambda: list(client.list_jobs(select=select))) or []

    def managed(items: list[Any]) -> list[tuple[str, Ownership, str]]:
        owners = ((i, parse_items(i.metadata)) for i in items)
        return [(i.id, o, enum_text(i.state)) for i, o in owners if o.managed]

    return managed(pools), managed(jobs)


def task_counts(client: BatchClient, job_id: str) -> dict[str, int]:
    """One request: active, running, completed, succeeded, failed."""
    result = _call(client.get_job_task_counts, job_id)
    if result is None:
        return {}
    c = result.task_counts
    return {
        "active": c.active,
        "running": c.running,
        "completed": c.completed,
        "succeeded": c.succeeded,
        "failed": c.failed,
    }
