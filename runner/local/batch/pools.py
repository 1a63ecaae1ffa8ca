"""Pool rules: create, read, update, resize and delete, with Batch's conflicts and defaults.

No HTTP here: handlers pass parsed bodies and get documents or ``BatchServiceError``. The
scheduler does the slow parts (allocating nodes, deleting) and moves the states along.
"""

from __future__ import annotations

import re
from typing import Any

from runner.local.batch import defaults
from runner.local.batch.autoscale_formula import check_formula
from runner.local.batch.checks import check_id, container_configuration, number, require
from runner.local.batch.errors import BatchServiceError
from runner.local.batch.state import BatchState, Doc, find_by_id
from runner.local.batch.wire import new_etag, now_iso, set_state, touch

_RG = r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Compute/"
IMAGE_ID = re.compile(
    _RG + r"(?:images/[^/]+|galleries/[^/]+/images/[^/]+(?:/versions/[^/]+)?)$", re.IGNORECASE
)
IMAGE_ID_REASON = (
    "The specified resource id must be of the format /subscriptions/{subscriptionId}/"
    "resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/images/{imageName}, "
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"
    "Microsoft.Compute/galleries/{galleryName}/images/{galleryImageName}/versions/"
    "{galleryImageVersionName}, or /subscriptions/{subscriptionId}/resourceGroups/"
    "{resourceGroupName}/providers/Microsoft.Compute/galleries/{galleryName}/images/"
    "{galleryImageName}"
)
SUBNET_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)/", re.IGNORECASE)
# Properties a PATCH may change; others are fixed once the pool exists.
PATCHABLE = (
    "startTask",
    "metadata",
    "applicationPackageReferences",
    "targetNodeCommunicationMode",
    "certificateReferences",
)
REPLACEABLE = (
    "startTask",
    "metadata",
    "applicationPackageReferences",
    "targetNodeCommunicationMode",
)


def create_pool(state: BatchState, body: dict[str, Any], legacy: bool = False) -> Doc:
    """Adds a pool. ``legacy``: the api-version still knows cloud service pools."""
    require(body, "id", "vmSize")
    check_id(body["id"])
    check_pool_body(body, state.subscription, legacy)
    with state.lock:
        existing = _find(state, body["id"])
        if existing is not None:
            code = "PoolBeingDeleted" if existing["state"] == "deleting" else "PoolExists"
            raise BatchServiceError(code)
        doc = new_pool(body)
        state.pools[doc["id"]] = doc
        state.nodes[doc["id"]] = {}
        state.save_pool(doc)
        state.notify()
        return doc


def check_pool_body(body: dict[str, Any], subscription: str, legacy: bool) -> None:
    """Batch's checks of a pool body that need no state (recorded answers of Azure)."""
    has_vm = bool(body.get("virtualMachineConfiguration"))
    if not has_vm and not (legacy and body.get("cloudServiceConfiguration")):
        raise BatchServiceError(
            "MissingRequiredProperty", PropertyName="virtualMachineConfiguration"
        )
    vm = body.get("virtualMachineConfiguration") or {}
    if vm.get("containerConfiguration") is not None:
        container_configuration(vm["containerConfiguration"])
    image = vm.get("imageReference") or {}
    image_id = image.get("virtualMachineImageId")
    if image_id and not IMAGE_ID.match(image_id):
        raise BatchServiceError(
            "InvalidPropertyValue",
            PropertyName="virtualMachineImageId",
            PropertyValue=image_id,
            Reason=IMAGE_ID_REASON,
        )
    subnet = (body.get("networkConfiguration") or {}).get("subnetId")
    if subnet:
        # The local account has no virtual networks: any subnet is one it cannot use.
        match = SUBNET_SUBSCRIPTION.match(subnet)
        reason = (
            f"The specified subnetId is in a different subscription and cannot be used "
            f"with the current Batch account in subscription {subscription}"
            if match and match.group(1).lower() != subscription.lower()
            else "The specified subnet does not exist."
        )
        raise BatchServiceError(
            "InvalidPropertyValue", PropertyName="subnetId", PropertyValue=subnet, Reason=reason
        )


def new_pool(body: dict[str, Any]) -> Doc:
    now = now_iso()
    vm = body.get("virtualMachineConfiguration")
    windows = "windows" in str((vm or {}).get("nodeAgentSKUId", "")).lower() or not vm
    doc: Doc = {
        "id": body["id"],
        "eTag": new_etag(),
        "lastModified": now,
        "creationTime": now,
        "state": "active",
        "stateTransitionTime": now,
        "allocationState": "resizing",
        "allocationStateTransitionTime": now,
        "vmSize": str(body["vmSize"]).lower(),
        "resizeTimeout": body.get("resizeTimeout") or "PT15M",
        "currentDedicatedNodes": 0,
        "targetDedicatedNodes": number(body, "targetDedicatedNodes", 0, 0, 1000),
        "currentLowPriorityNodes": 0,
        "targetLowPriorityNodes": number(body, "targetLowPriorityNodes", 0, 0, 1000),
        "enableAutoScale": bool(body.get("enableAutoScale", False)),
    }
    for key in ("autoScaleFormula", "autoScaleEvaluationInterval"):
        if body.get(key) is not None:
            doc[key] = body[key]
    if doc["enableAutoScale"]:
        # The scheduler evaluates the formula (autoscale.py); Batch's default interval.
        require(body, "autoScaleFormula")
        check_formula(body["autoScaleFormula"])
        doc.setdefault("autoScaleEvaluationInterval", "PT15M")
    doc["enableInterNodeCommunication"] = bool(body.get("enableInterNodeCommunication", False))
    if body.get("displayName") is not None:
        doc["displayName"] = body["displayName"]
    for key in (
        "networkConfiguration",
        "startTask",
        "userAccounts",
        "applicationPackageReferences",
        "applicationLicenses",
        "metadata",
        "mountConfiguration",
    ):
        if body.get(key) not in (None, []):
            doc[key] = body[key]
    if doc.get("networkConfiguration"):
        doc["networkConfiguration"] = defaults.network(doc["networkConfiguration"])
    if doc.get("startTask"):
        doc["startTask"] = defaults.start_task(doc["startTask"])
    if doc.get("mountConfiguration"):
        doc["mountConfiguration"] = defaults.without_secrets(doc["mountConfiguration"])
    if doc.get("userAccounts"):
        doc["userAccounts"] = defaults.user_accounts(doc["userAccounts"], windows)
    doc["certificateReferences"] = body.get("certificateReferences") or []
    doc["taskSlotsPerNode"] = number(body, "taskSlotsPerNode", 1, 1, 256)
    doc["taskSchedulingPolicy"] = defaults.scheduling_policy(body.get("taskSchedulingPolicy"))
    if vm:
        doc["virtualMachineConfiguration"] = defaults.vm_configuration(vm)
    else:
        doc["cloudServiceConfiguration"] = defaults.cloud_service(body["cloudServiceConfiguration"])
    for key in ("targetNodeCommunicationMode", "upgradePolicy", "resourceTags"):
        if body.get(key) is not None:
            doc[key] = body[key]
    return doc


def _find(state: BatchState, pool_id: str) -> Doc | None:
    return find_by_id(state.pools, pool_id)


def get_pool(state: BatchState, pool_id: str) -> Doc:
    doc = _find(state, pool_id)
    if doc is None:
        raise BatchServiceError("PoolNotFound")
    return doc


def _writable(state: BatchState, pool_id: str) -> Doc:
    doc = get_pool(state, pool_id)
    if doc["state"] == "deleting":
        raise BatchServiceError("PoolBeingDeleted")
    return doc


def patch_pool(state: BatchState, pool_id: str, body: dict[str, Any]) -> Doc:
    """PATCH: only the properties present change."""
    with state.lock:
        doc = _writable(state, pool_id)
        for key in PATCHABLE:
            if key in body and body[key] is not None:
                doc[key] = body[key]
        if doc.get("startTask"):
            doc["startTask"] = defaults.start_task(doc["startTask"])
        if "applicationPackageReferences" in doc and not doc["applicationPackageReferences"]:
            del doc["applicationPackageReferences"]
        touch(doc)
        state.save_pool(doc)
        return doc


def replace_pool_properties(state: BatchState, pool_id: str, body: dict[str, Any]) -> Doc:
    """POST updateproperties: the listed properties are replaced; absent ones are cleared."""
    require(body, "metadata")
    with state.lock:
        doc = _writable(state, pool_id)
        for key in REPLACEABLE:
            if body.get(key) in (None, []):
                doc.pop(key, None)
            else:
                doc[key] = body[key]
        doc["certificateReferences"] = body.get("certificateReferences") or []
        if doc.get("startTask"):
            doc["startTask"] = defaults.start_task(doc["startTask"])
        touch(doc)
        state.save_pool(doc)
        return doc


def resize_pool(state: BatchState, pool_id: str, body: dict[str, Any]) -> Doc:
    with state.lock:
        doc = _writable(state, pool_id)
        if doc["allocationState"] != "steady":
            raise BatchServiceError("PoolNotSteady")
        if doc.get("enableAutoScale"):
            raise BatchServiceError(
                "OperationNotValidAtThisTime",
                "The pool has auto-scale enabled and cannot be resized.",
            )
        for key in ("targetDedicatedNodes", "targetLowPriorityNodes"):
            if body.get(key) is not None:
                doc[key] = number(body, key, 0, 0, 1000)
        if body.get("resizeTimeout"):
            doc["resizeTimeout"] = body["resizeTimeout"]
        state.pool_runtime(doc["id"]).deallocation = body.get("nodeDeallocationOption") or "requeue"
        doc.pop("resizeErrors", None)
        set_state(doc, "resizing", "allocationState")
        touch(doc)
        state.save_pool(doc)
        state.notify()
        return doc


def stop_resize(state: BatchState, pool_id: str) -> Doc:
    """Stops a resize where it is: the targets stay, the pool shows ``stopping``."""
    with state.lock:
        doc = _writable(state, pool_id)
        if doc["allocationState"] == "resizing":
            kinds = [
                name
                for name, current, target in (
                    ("dedicated", "currentDedicatedNodes", "targetDedicatedNodes"),
                    ("low priority", "currentLowPriorityNodes", "targetLowPriorityNodes"),
                )
                if doc[current] < doc[target]
            ]
            errors = [
                {
                    "code": "ResizeStopped",
                    "message": f"Desired number of {kind} nodes could not be allocated due to "
                    "a stop resize operation",
                }
                for kind in kinds
            ]
            if errors:
                doc["resizeErrors"] = errors
            set_state(doc, "stopping", "allocationState")
            record = state.pool_runtime(doc["id"])
            record.steady_at, record.remove = None, None
            state.save_pool(doc)
            state.notify()
        return doc


def delete_pool(state: BatchState, pool_id: str) -> Doc:
    with state.lock:
        doc = get_pool(state, pool_id)
        if doc["state"] == "deleting":
            return doc
        doc["previousState"] = doc["state"]
        set_state(doc, "deleting")
        touch(doc)
        state.save_pool(doc)
        state.notify()
        return doc


def get_node(state: BatchState, pool_id: str, node_id: str) -> Doc:
    node = state.nodes.get(get_pool(state, pool_id)["id"], {}).get(node_id)
    if node is None:
        raise BatchServiceError("NodeNotFound")
    return node
