"""Job rules: create, read, update, terminate and delete, with Batch's conflicts and defaults."""

from __future__ import annotations

import uuid
from collections import deque
from typing import Any

from runner.local.batch import defaults
from runner.local.batch.checks import check_id, duration, number, require
from runner.local.batch.errors import BatchServiceError
from runner.local.batch.pools import check_pool_body, delete_pool, new_pool
from runner.local.batch.runtime import AutoPool
from runner.local.batch.state import BatchState, Doc, find_by_id
from runner.local.batch.wire import MAX_DURATION, new_etag, now_iso, set_state, touch

PATCHABLE = (
    "priority",
    "maxParallelTasks",
    "allowTaskPreemption",
    "constraints",
    "poolInfo",
    "onAllTasksComplete",
    "metadata",
    "displayName",
)


def create_job(state: BatchState, body: dict[str, Any], legacy: bool = False) -> Doc:
    require(body, "id", "poolInfo")
    check_id(body["id"])
    duration(body.get("constraints") or {}, "maxWallClockTime")
    auto = body["poolInfo"].get("autoPoolSpecification")
    if not (body["poolInfo"].get("poolId") or auto):
        raise BatchServiceError("MissingRequiredProperty", PropertyName="poolId")
    if auto:
        require(auto, "poolLifetimeOption", "pool.vmSize")
        check_pool_body(auto["pool"], state.subscription, legacy)
    with state.lock:
        existing = find_job(state, body["id"])
        if existing is not None:
            code = "JobBeingDeleted" if existing["state"] == "deleting" else "JobExists"
            raise BatchServiceError(code)
        now = now_iso()
        doc: Doc = {
            "id": body["id"],
            "usesTaskDependencies": bool(body.get("usesTaskDependencies", False)),
            "eTag": new_etag(),
            "lastModified": now,
            "creationTime": now,
            "state": "active",
            "stateTransitionTime": now,
            "priority": number(body, "priority", 0, -1000, 1000),
            "allowTaskPreemption": bool(body.get("allowTaskPreemption", False)),
            "maxParallelTasks": number(body, "maxParallelTasks", -1, -1, 1_000_000),
            "constraints": {
                "maxWallClockTime": MAX_DURATION,
                "maxTaskRetryCount": 0,
                **(body.get("constraints") or {}),
            },
            "poolInfo": defaults.pool_info(body["poolInfo"]),
            "onAllTasksComplete": body.get("onAllTasksComplete") or "noaction",
            "onTaskFailure": body.get("onTaskFailure") or "noaction",
            "executionInfo": {
                "startTime": now,
                "poolId": body["poolInfo"].get("poolId") or _auto_pool(state, auto),
            },
        }
        for key in (
            "displayName",
            "metadata",
            "commonEnvironmentSettings",
            "jobManagerTask",
            "networkConfiguration",
        ):
            if body.get(key) is not None:
                doc[key] = body[key]
        if body.get("jobPreparationTask"):
            doc["jobPreparationTask"] = defaults.preparation_task(body["jobPreparationTask"])
        if body.get("jobReleaseTask"):
            doc["jobReleaseTask"] = defaults.release_task(body["jobReleaseTask"])
        state.jobs[doc["id"]] = doc
        state.tasks[doc["id"]] = {}
        state.queue[doc["id"]] = deque()
        state.save_job(doc)
        state.notify()
        return doc


def _auto_pool(state: BatchState, auto: Doc) -> str:
    """Makes the pool of an auto-pool job; Batch names it with an upper-case GUID."""
    prefix = auto.get("autoPoolIdPrefix")
    pool_id = str(uuid.uuid4()).upper()
    pool_id = f"{prefix}_{pool_id}" if prefix else pool_id
    pool = new_pool({**auto["pool"], "id": pool_id})
    state.pool_runtime(pool_id).auto_pool = AutoPool(
        auto.get("poolLifetimeOption"), bool(auto.get("keepAlive", False))
    )
    state.pools[pool_id] = pool
    state.nodes[pool_id] = {}
    state.save_pool(pool)
    return pool_id


def pool_of(job: Doc) -> str:
    """The id of the pool a job's tasks run on (its own pool for an auto-pool job)."""
    return str(job["poolInfo"].get("poolId") or job["executionInfo"].get("poolId") or "")


def release_auto_pool(state: BatchState, job: Doc) -> None:
    """Deletes a job's auto pool when the job ends, unless it is to be kept alive."""
    if job["poolInfo"].get("poolId"):
        return
    pool = state.pools.get(job["executionInfo"].get("poolId") or "")
    auto = state.pool_runtime(pool["id"]).auto_pool if pool is not None else None
    if pool is not None and auto and auto.lifetime == "job" and not auto.keep_alive:
        delete_pool(state, pool["id"])


def find_job(state: BatchState, job_id: str) -> Doc | None:
    return find_by_id(state.jobs, job_id)


def get_job(state: BatchState, job_id: str) -> Doc:
    doc = find_job(state, job_id)
    if doc is None:
        raise BatchServiceError("JobNotFound")
    return doc


def writable_job(state: BatchState, job_id: str) -> Doc:
    doc = get_job(state, job_id)
    if doc["state"] == "deleting":
        raise BatchServiceError("JobBeingDeleted")
    if doc["state"] in ("completed", "terminating"):
        raise BatchServiceError("JobCompleted")
    return doc


def patch_job(state: BatchState, job_id: str, body: dict[str, Any], replace: bool) -> Doc:
    duration(body.get("constraints") or {}, "maxWallClockTime")
    with state.lock:
        doc = writable_job(state, job_id)
        for key in PATCHABLE:
            if key in body and body[key] is not None:
                doc[key] = defaults.pool_info(body[key]) if key == "poolInfo" else body[key]
            elif replace and key in ("metadata", "constraints"):
                doc.pop(key, None)
        doc["constraints"] = {
            "maxWallClockTime": MAX_DURATION,
            "maxTaskRetryCount": 0,
            **(doc.get("constraints") or {}),
        }
        touch(doc)
        state.save_job(doc)
        state.notify()
        return doc


def terminate_job(state: BatchState, job_id: str, reason: str | None) -> Doc:
    with state.lock:
        doc = get_job(state, job_id)
        if doc["state"] == "deleting":
            raise BatchServiceError("JobBeingDeleted")
        if doc["state"] in ("completed", "terminating"):
            raise BatchServiceError("JobCompleted")
        doc["previousState"], doc["previousStateTransitionTime"] = (
            doc["state"],
            doc["stateTransitionTime"],
        )
        set_state(doc, "terminating")
        doc["executionInfo"]["terminateReason"] = reason or "UserTerminate"
        touch(doc)
        state.save_job(doc)
        state.notify()
        return doc


def disable_job(state: BatchState, job_id: str, body: dict[str, Any]) -> Doc:
    """Stops new tasks from starting; ``disableTasks`` says what happens to running ones."""
    option = body.get("disableTasks")
    if option not in ("requeue", "terminate", "wait"):
        raise BatchServiceError(
            "InvalidPropertyValue" if option else "MissingRequiredProperty",
            PropertyName="disableTasks",
            PropertyValue=option,
        )
    with state.lock:
        doc = get_job(state, job_id)
        if doc["state"] not in ("active", "disabling", "disabled"):
            raise BatchServiceError("JobNotActive")
        if doc["state"] == "active":
            doc["previousState"], doc["previousStateTransitionTime"] = (
                doc["state"],
                doc["stateTransitionTime"],
            )
            set_state(doc, "disabled")
            if option != "wait":
                for task in state.tasks.get(doc["id"], {}).values():
                    if task["state"] in ("preparing", "running"):
                        reason = "requeue" if option == "requeue" else "terminated"
                        state.stop_task(doc["id"], task["id"], reason)
        touch(doc)
        state.save_job(doc)
        state.notify()
        return doc


def enable_job(state: BatchState, job_id: str) -> Doc:
    with state.lock:
        doc = get_job(state, job_id)
        if doc["state"] not in ("active", "disabling", "disabled", "enabling"):
            raise BatchServiceError(
                "JobNotActive" if doc["state"] != "completed" else "JobCompleted"
            )
        if doc["state"] != "active":
            doc["previousState"], doc["previousStateTransitionTime"] = (
                doc["state"],
                doc["stateTransitionTime"],
            )
            set_state(doc, "active")
        touch(doc)
        state.save_job(doc)
        state.notify()
        return doc


def delete_job(state: BatchState, job_id: str) -> Doc:
    with state.lock:
        doc = get_job(state, job_id)
        if doc["state"] == "deleting":
            return doc
        doc["previousState"], doc["previousStateTransitionTime"] = (
            doc["state"],
            doc["stateTransitionTime"],
        )
        set_state(doc, "deleting")
        touch(doc)
        release_auto_pool(state, doc)
        state.save_job(doc)
        state.notify()
        return doc
