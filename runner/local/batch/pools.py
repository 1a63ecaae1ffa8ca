"""Pool rules: create, read, update, resize and delete, with Batch's conflicts and defaults.

No HTTP here: handlers pass parsed bodies and get documents or ``BatchServiceError``. The
scheduler does the slow parts (allocating nodes, deleting) and moves the states along.
"""

from __future__ import annotations

import re
from typing import Any

from runner.local.batch.errors import BatchServiceError
from runner.local.batch.state import BatchState, Doc
from runner.local.batch.wire import new_etag, now_iso, parse_duration

ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Properties a PATCH may change; others are fixed once the pool exists.
PATCHABLE = ("startTask", "metadata", "applicationPackageReferences", "targetNodeCommunicationMode")
REPLACEABLE = ("startTask", "metadata", "applicationPackageReferences")


def require(body: dict[str, Any], *names: str) -> None:
    for name in names:
        value: Any = body
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value in (None, ""):
            raise BatchServiceError("MissingRequiredProperty", PropertyName=name.rsplit(".", 1)[-1])


def check_id(value: str, name: str = "id") -> None:
    if not ID.match(value):
        raise BatchServiceError(
            "InvalidPropertyValue", PropertyName=name, PropertyValue=value,
            Reason="The id can contain any combination of alphanumeric characters including "
            "hyphens and underscores, and cannot contain more than 64 characters.")


def number(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    """An integer property within ``[low, high]``, or ``InvalidPropertyValue``."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BatchServiceError("InvalidPropertyValue", PropertyName=name,
                                PropertyValue=str(value),
                                Reason=f"The value must be between {low} and {high}.")
    return value


def duration(body: dict[str, Any], name: str) -> None:
    """Checks an ISO 8601 duration property such as ``maxWallClockTime``."""
    value = body.get(name)
    try:
        if value is not None:
            parse_duration(str(value))
    except ValueError:
        raise BatchServiceError("InvalidPropertyValue", PropertyName=name,
                                PropertyValue=str(value)) from None


def touch(doc: Doc) -> None:
    doc["eTag"], doc["lastModified"] = new_etag(), now_iso()


def set_state(doc: Doc, state: str, key: str = "state") -> None:
    now = now_iso()
    doc[key] = state
    doc[f"{key}TransitionTime"] = now


def create_pool(state: BatchState, body: dict[str, Any]) -> Doc:
    require(body, "id", "vmSize")
    check_id(body["id"])
    if not body.get("virtualMachineConfiguration"):
        raise BatchServiceError("MissingRequiredProperty",
                                PropertyName="virtualMachineConfiguration")
    with state.lock:
        existing = _find(state, body["id"])
        if existing is not None:
            code = "PoolBeingDeleted" if existing["state"] == "deleting" else "PoolExists"
            raise BatchServiceError(code)
        now = now_iso()
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
            "currentLowPriorityNodes": 0,
            "targetDedicatedNodes": number(body, "targetDedicatedNodes", 0, 0, 1000),
            "targetLowPriorityNodes": number(body, "targetLowPriorityNodes", 0, 0, 1000),
            "enableAutoScale": bool(body.get("enableAutoScale", False)),
            "enableInterNodeCommunication": bool(body.get("enableInterNodeCommunication", False)),
            "taskSlotsPerNode": number(body, "taskSlotsPerNode", 1, 1, 256),
            "taskSchedulingPolicy": body.get("taskSchedulingPolicy") or {"nodeFillType": "spread"},
            "virtualMachineConfiguration": body["virtualMachineConfiguration"],
        }
        for key in ("displayName", "startTask", "metadata", "networkConfiguration",
                    "userAccounts", "applicationPackageReferences", "mountConfiguration"):
            if body.get(key) is not None:
                doc[key] = body[key]
        state.pools[doc["id"]] = doc
        state.nodes[doc["id"]] = {}
        state.save_pool(doc)
        state.notify()
        return doc


def _find(state: BatchState, pool_id: str) -> Doc | None:
    # Batch ids are case-insensitive: "Pool1" and "pool1" are the same pool.
    doc = state.pools.get(pool_id)
    if doc is not None:
        return doc
    lowered = pool_id.lower()
    return next((d for k, d in state.pools.items() if k.lower() == lowered), None)


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
        touch(doc)
        state.save_pool(doc)
        return doc


def replace_pool_properties(state: BatchState, pool_id: str, body: dict[str, Any]) -> Doc:
    """POST updateproperties: the listed properties are replaced; absent ones are cleared."""
    require(body, "metadata")
    with state.lock:
        doc = _writable(state, pool_id)
        for key in REPLACEABLE:
            if body.get(key) is None:
                doc.pop(key, None)
            else:
                doc[key] = body[key]
        touch(doc)
        state.save_pool(doc)
        return doc


def resize_pool(state: BatchState, pool_id: str, body: dict[str, Any]) -> Doc:
    with state.lock:
        doc = _writable(state, pool_id)
        if doc["allocationState"] != "steady":
            raise BatchServiceError("PoolNotSteady")
        if doc.get("enableAutoScale"):
            raise BatchServiceError("OperationNotValidAtThisTime",
                                    "The pool has auto-scale enabled and cannot be resized.")
        for key in ("targetDedicatedNodes", "targetLowPriorityNodes"):
            if body.get(key) is not None:
                doc[key] = number(body, key, 0, 0, 1000)
        if body.get("resizeTimeout"):
            doc["resizeTimeout"] = body["resizeTimeout"]
        doc["_deallocation"] = body.get("nodeDeallocationOption") or "requeue"
        set_state(doc, "resizing", "allocationState")
        touch(doc)
        state.save_pool(doc)
        state.notify()
        return doc


def stop_resize(state: BatchState, pool_id: str) -> Doc:
    with state.lock:
        doc = _writable(state, pool_id)
        if doc["allocationState"] == "resizing":
            doc["targetDedicatedNodes"] = doc["currentDedicatedNodes"]
            doc["targetLowPriorityNodes"] = doc["currentLowPriorityNodes"]
            set_state(doc, "steady", "allocationState")
            doc.pop("_steady_at", None)
            touch(doc)
            state.save_pool(doc)
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
