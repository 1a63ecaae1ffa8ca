"""The canonical form of a ``BatchJob``'s pool: what the planner compares with the live
pool and hashes into its metadata. Keys a spec leaves unset (containers, autoscale) are
left out, so pools without them keep the hash they had."""

from __future__ import annotations

import shlex
from typing import Any

from runner.plan import autoscale
from runner.plan.canonical import SENSITIVE
from runner.spec.batch_containers import PoolContainers
from runner.spec.models import BatchJob


def pool_canonical(spec: BatchJob, app_blobs: tuple[str, ...]) -> dict[str, Any]:
    """``app_blobs``: the names of the files the start task copies, in the spec's order."""
    pool = spec.pool
    start = pool.start_task
    form: dict[str, Any] = {
        "id": pool.id,
        "vmSize": pool.vm_size.lower(),
        "image": {k: v.lower() for k, v in pool.image.model_dump().items()},
        "nodeAgentSku": pool.node_agent_sku.lower(),
        "taskSlotsPerNode": pool.task_slots_per_node,
        "network": None,
        "nodes": pool.nodes,
        "lowPriorityNodes": pool.low_priority_nodes,
        "startTask": None
        if start is None
        else {
            "commandLine": start_task_command(spec, app_blobs),
            "files": sorted(app_blobs),
            "waitForSuccess": start.wait_for_success,
        },
    }
    if pool.containers is not None:
        form["containerConfiguration"] = container_configuration(pool.containers)
    auto_scale = autoscale.canonical(pool)
    if auto_scale is not None:
        # The formula sizes the pool, not node counts.
        form.update(nodes=None, lowPriorityNodes=None, autoScale=auto_scale)
    return form


def start_task_command(spec: BatchJob, app_blobs: tuple[str, ...]) -> str:
    names = " ".join(shlex.quote(b) for b in app_blobs)
    steps = [f'cp -f {names} "$AZ_BATCH_NODE_SHARED_DIR"/'] if app_blobs else []
    if spec.pool.start_task and spec.pool.start_task.command:
        steps.append(spec.pool.start_task.command)
    return "/bin/sh -c " + shlex.quote(" && ".join(steps) or "true")


def container_configuration(containers: PoolContainers) -> dict[str, Any]:
    """The pool's ``containerConfiguration`` without passwords: they are read from the
    environment when the pool is made, and Batch never shows them."""
    return {
        "type": containers.type,
        "containerImageNames": list(containers.images),
        "containerRegistries": [
            {"registryServer": r.server.lower(), "username": r.username, "password": SENSITIVE}
            for r in containers.registries
        ],
    }
