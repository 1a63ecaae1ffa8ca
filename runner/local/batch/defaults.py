"""What Batch fills in and leaves out when it stores a pool, job or task.

Read off Azure's own recorded answers (azure-sdk-assets, ``python/sdk/batch/azure-batch/
tests/recordings``: test_batch_create_pools, test_batch_update_pools, test_batch_jobs) and
the GET examples of azure-rest-api-specs: a pool's ``nodeFillType`` comes back capitalised
(``Spread``), its image reference gains ``version: latest``, data disks their caching and
storage type, user accounts lose their password; a job's preparation and release tasks get
their ids, constraints and auto-user; an auto-pool specification its pool defaults.
"""

from __future__ import annotations

import copy
from typing import Any

from runner.local.batch.checks import container_configuration
from runner.local.batch.wire import MAX_DURATION

Doc = dict[str, Any]

AUTO_USER = {"autoUser": {"scope": "pool", "elevationLevel": "nonadmin"}}
FILL_TYPES = {"spread": "Spread", "pack": "Pack"}


def scheduling_policy(value: Doc | None) -> Doc:
    fill = str((value or {}).get("nodeFillType") or "spread")
    return {"nodeFillType": FILL_TYPES.get(fill.lower(), fill)}


def vm_configuration(value: Doc) -> Doc:
    config = copy.deepcopy(value)
    image = config.get("imageReference")
    if isinstance(image, dict) and not image.get("virtualMachineImageId"):
        image.setdefault("version", "latest")
    containers = config.get("containerConfiguration")
    if isinstance(containers, dict):
        # The type in the spec's spelling; registry passwords never come back.
        config["containerConfiguration"] = without_secrets(container_configuration(containers))
    disks = config.get("dataDisks")
    if isinstance(disks, list):
        config["dataDisks"] = [
            {
                "lun": d.get("lun"),
                "caching": d.get("caching") or "none",
                "diskSizeGB": d.get("diskSizeGB"),
                "storageAccountType": d.get("storageAccountType") or "standard_lrs",
            }
            if isinstance(d, dict)
            else d
            for d in disks
        ]
    return config


def user_accounts(value: list[Any], windows: bool) -> list[Any]:
    """Accounts as Batch returns them: no password, elevation level filled in."""
    out = []
    for account in value:
        if not isinstance(account, dict):
            out.append(account)
            continue
        shown = {k: v for k, v in account.items() if k != "password"}
        shown.setdefault("elevationLevel", "nonadmin")
        if windows:
            shown.setdefault("windowsUserConfiguration", {"loginMode": "batch"})
        out.append(shown)
    return out


def network(value: Doc) -> Doc:
    shown = copy.deepcopy(value)
    for nat in (shown.get("endpointConfiguration") or {}).get("inboundNATPools") or []:
        for rule in nat.get("networkSecurityGroupRules") or []:
            rule.setdefault("sourcePortRanges", ["*"])
    return {
        "dynamicVNetAssignmentScope": "none",
        **shown,
        "enableAcceleratedNetworking": bool(value.get("enableAcceleratedNetworking", False)),
    }


def cloud_service(value: Doc) -> Doc:
    return {"osVersion": "*", **value}


def pool_specification(spec: Doc) -> Doc:
    """An auto-pool's ``pool`` as a job shows it (test_batch_jobs recording)."""
    out: Doc = {
        "vmSize": spec.get("vmSize"),
        "taskSlotsPerNode": spec.get("taskSlotsPerNode", 1),
        "taskSchedulingPolicy": scheduling_policy(spec.get("taskSchedulingPolicy")),
        "resizeTimeout": spec.get("resizeTimeout") or "PT15M",
        "targetDedicatedNodes": spec.get("targetDedicatedNodes", 0),
        "targetLowPriorityNodes": spec.get("targetLowPriorityNodes", 0),
        "enableAutoScale": bool(spec.get("enableAutoScale", False)),
        "enableInterNodeCommunication": bool(spec.get("enableInterNodeCommunication", False)),
    }
    for key, value in spec.items():
        if key in out or value is None:
            continue
        if key == "virtualMachineConfiguration":
            out[key] = vm_configuration(value)
        elif key == "cloudServiceConfiguration":
            out[key] = cloud_service(value)
        else:
            out[key] = value
    return out


def pool_info(value: Doc) -> Doc:
    auto = value.get("autoPoolSpecification")
    if not isinstance(auto, dict):
        return copy.deepcopy(value)
    shown: Doc = {
        "poolLifetimeOption": auto.get("poolLifetimeOption"),
        "keepAlive": bool(auto.get("keepAlive", False)),
    }
    if auto.get("autoPoolIdPrefix"):
        shown["autoPoolIdPrefix"] = auto["autoPoolIdPrefix"]
    shown["pool"] = pool_specification(auto.get("pool") or {})
    return {
        **{k: v for k, v in value.items() if k != "autoPoolSpecification"},
        "autoPoolSpecification": shown,
    }


def preparation_task(value: Doc) -> Doc:
    return {
        "id": value.get("id") or "jobpreparation",
        "commandLine": value.get("commandLine"),
        **{
            k: v
            for k, v in value.items()
            if k not in ("id", "commandLine", "constraints", "userIdentity")
        },
        "constraints": {
            "maxWallClockTime": MAX_DURATION,
            "retentionTime": "P7D",
            "maxTaskRetryCount": 0,
            **(value.get("constraints") or {}),
        },
        "userIdentity": value.get("userIdentity") or copy.deepcopy(AUTO_USER),
        "waitForSuccess": value.get("waitForSuccess", True),
        "rerunOnNodeRebootAfterSuccess": value.get("rerunOnNodeRebootAfterSuccess", True),
    }


def release_task(value: Doc) -> Doc:
    return {
        "id": value.get("id") or "jobrelease",
        "commandLine": value.get("commandLine"),
        **{
            k: v
            for k, v in value.items()
            if k not in ("id", "commandLine", "userIdentity", "maxWallClockTime", "retentionTime")
        },
        "maxWallClockTime": value.get("maxWallClockTime") or "PT15M",
        "retentionTime": value.get("retentionTime") or "P7D",
        "userIdentity": value.get("userIdentity") or copy.deepcopy(AUTO_USER),
    }


def node_extras(pool: Doc, index: int) -> Doc:
    """A node's endpoints and image, as Batch reports them (test_batch_files recording).

    Each inbound NAT pool gives the node one endpoint ``<name>.<index>``; without NAT pools
    a Linux node gets the default SSH endpoint (a Windows one the RDP one).
    """
    vm = pool.get("virtualMachineConfiguration") or {}
    windows = "windows" in str(vm.get("nodeAgentSKUId", "")).lower() or not vm
    endpoints = []
    nat_pools = ((pool.get("networkConfiguration") or {}).get("endpointConfiguration") or {}).get(
        "inboundNATPools"
    ) or []
    for nat in nat_pools:
        endpoints.append(
            {
                "name": f"{nat.get('name')}.{index}",
                "protocol": nat.get("protocol", "tcp"),
                "publicIPAddress": "127.0.0.1",
                "publicFQDN": "localhost",
                "frontendPort": int(nat.get("frontendPortRangeStart", 50000)) + index,
                "backendPort": nat.get("backendPort"),
            }
        )
    default_port = 3389 if windows else 22
    if not endpoints:
        endpoints.append(
            {
                "name": f"{'RDP' if windows else 'SSH'}Rule.{index}",
                "protocol": "tcp",
                "publicIPAddress": "127.0.0.1",
                "publicFQDN": "localhost",
                "frontendPort": 50000 + index,
                "backendPort": default_port,
            }
        )
    extras: Doc = {"endpointConfiguration": {"inboundEndpoints": endpoints}}
    image = vm.get("imageReference")
    if image:
        extras["virtualMachineInfo"] = {
            "imageReference": {**image, "exactVersion": image.get("version", "latest")}
        }
    return extras


def user_identity(value: Doc | None) -> Doc:
    """A task's identity as Batch shows it: the pool-wide non-admin auto-user by default."""
    if not value:
        return copy.deepcopy(AUTO_USER)
    if isinstance(value.get("autoUser"), dict):
        return {**value, "autoUser": {**AUTO_USER["autoUser"], **value["autoUser"]}}
    return copy.deepcopy(value)


def start_task(value: Doc) -> Doc:
    """A pool's start task with what Batch fills in (PoolGet examples: identity, retries)."""
    return {
        **value,
        "userIdentity": user_identity(value.get("userIdentity")),
        "maxTaskRetryCount": value.get("maxTaskRetryCount", 0),
        "waitForSuccess": value.get("waitForSuccess", True),
    }


SECRETS = ("accountKey", "sasKey", "password")


def without_secrets(value: Any) -> Any:
    """Batch never returns keys or passwords it was given (a recorded blobfuse mount came
    back without its ``accountKey``)."""
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if k not in SECRETS}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value
