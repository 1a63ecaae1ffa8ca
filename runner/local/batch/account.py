"""Account-level reads: supported images and node counts per pool.

The images are the Linux ones a local node can stand in for (it runs commands on this
machine, whatever image a pool names); shapes follow the AccountListSupportedImages and
AccountListPoolNodeCounts examples of azure-rest-api-specs. An image's ``capabilities`` are
those Azure reports for it: the container-ready ones (Microsoft's Ubuntu HPC image and the
Batch container image, with Moby and the NVIDIA drivers) list ``DockerCompatible``, as the
example's container image does, so a client can tell which image runs container tasks;
the plain Canonical and Debian images list none.
"""

from __future__ import annotations

from typing import Any

from flask import Response, request

from runner.local.batch.errors import BatchServiceError
from runner.local.batch.http import base_url, ok
from runner.local.batch.query import compile_filter, page
from runner.local.batch.service import BatchService

CONTAINER_READY = ["DockerCompatible", "NvidiaTeslaDriverInstalled"]
# (node agent SKU, publisher, offer, sku, capabilities)
IMAGES: list[tuple[str, str, str, str, list[str]]] = [
    ("batch.node.ubuntu 22.04", "canonical", "0001-com-ubuntu-server-jammy", "22_04-lts", []),
    ("batch.node.ubuntu 22.04", "microsoft-dsvm", "ubuntu-hpc", "2204", CONTAINER_READY),
    ("batch.node.ubuntu 20.04", "canonical", "0001-com-ubuntu-server-focal", "20_04-lts", []),
    (
        "batch.node.ubuntu 20.04",
        "microsoft-azure-batch",
        "ubuntu-server-container",
        "20-04-lts",
        CONTAINER_READY,
    ),
    ("batch.node.debian 11", "debian", "debian-11", "11", []),
]
# Node states as BatchNodeCounts names them (camelCase), keyed by the node's wire state.
COUNTED = {
    "creating": "creating",
    "idle": "idle",
    "offline": "offline",
    "preempted": "preempted",
    "rebooting": "rebooting",
    "reimaging": "reimaging",
    "running": "running",
    "starting": "starting",
    "starttaskfailed": "startTaskFailed",
    "leavingpool": "leavingPool",
    "unknown": "unknown",
    "unusable": "unusable",
    "waitingforstarttask": "waitingForStartTask",
    "deallocated": "deallocated",
    "deallocating": "deallocating",
    "upgradingos": "upgradingOS",
}


def _image(
    agent: str, publisher: str, offer: str, sku: str, capabilities: list[str]
) -> dict[str, Any]:
    image: dict[str, Any] = {
        "nodeAgentSKUId": agent,
        "imageReference": {"publisher": publisher, "offer": offer, "sku": sku, "version": "latest"},
        "verificationType": "verified",
    }
    if capabilities:  # Azure leaves the list out for an image that has none (the example)
        image["capabilities"] = list(capabilities)
    image["osType"] = "linux"
    return image


def list_supported_images(batch: BatchService) -> Response:
    keep = compile_filter(request.args.get("$filter"))
    images = [_image(*row) for row in IMAGES]
    images = [i for i in images if keep(i)]
    return ok(page(images, request.args, base_url(), "/supportedimages"), "supportedimages")


def list_pool_node_counts(batch: BatchService) -> Response:
    keep = compile_filter(request.args.get("$filter"))
    rows = []
    with batch.state.lock:
        for pool in batch.state.pools.values():
            if not keep(pool):
                continue
            counts = {
                kind: dict.fromkeys([*COUNTED.values(), "total"], 0)
                for kind in ("dedicated", "lowPriority")
            }
            for node in batch.state.nodes.get(pool["id"], {}).values():
                kind = counts["dedicated" if node.get("isDedicated", True) else "lowPriority"]
                kind[COUNTED.get(node["state"], "unknown")] += 1
                kind["total"] += 1
            rows.append({"poolId": pool["id"], **counts})
    return ok(page(rows, request.args, base_url(), "/nodecounts"), "poolnodecounts")


def list_applications(batch: BatchService) -> Response:
    # The local account has no application packages.
    return ok(page([], request.args, base_url(), "/applications"), "applications")


def get_application(batch: BatchService, application_id: str) -> Response:
    raise BatchServiceError("ApplicationNotFound")


def list_job_schedules(batch: BatchService) -> Response:
    # Job schedules are not emulated: the account has none, and a named one is not found.
    return ok(page([], request.args, base_url(), "/jobschedules"), "jobschedules")


def job_schedule_not_found(batch: BatchService, **_: str) -> Response:
    raise BatchServiceError("JobScheduleNotFound")
