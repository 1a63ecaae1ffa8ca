"""Job rules: create, read, update, terminate and delete, with Batch's conflicts and defaults."""

from __future__ import annotations

from collections import deque
from typing import Any

from runner.local.batch.errors import BatchServiceError
from runner.local.batch.pools import check_id, duration, number, require, set_state, touch
from runner.local.batch.state import BatchState, Doc
from runner.local.batch.wire import MAX_DURATION, new_etag, now_iso

PATCHABLE = ("priority", "maxParallelTasks", "allowTaskPreemption", "constraints", "poolInfo",
             "onAllTasksComplete", "metadata", "displayName")


def create_job(state: BatchState, body: dict[str, Any]) -> Doc:
    require(body, "id", "poolInfo")
    check_id(body["id"])
    duration(body.get("constraints") or {}, "maxWallClockTime")
    if not (body["poolInfo"].get("poolId") or body["poolInfo"].get("autoPoolSpecification")):
        raise BatchServiceError("MissingRequiredProperty", PropertyName="poolId")
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
            "constraints": {"maxWallClockTime": MAX_DURATION, "maxTaskRetryCount": 0,
                            **(body.get("constraints") or {})},
            "poolInfo": body["poolInfo"],
            "onAllTasksComplete": body.get("onAllTasksComplete") or "noaction",
            "onTaskFailure": body.get("onTaskFailure") or "noaction",
            "executionInfo": {"startTime": now, "poolId": body["poolInfo"].get("poolId")},
        }
        for key in ("displayName", "metadata", "commonEnvironmentSettings", "jobManagerTask",
                    "jobPreparationTask", "jobReleaseTask", "networkConfiguration"):
            if body.get(key) is not None:
                doc[key] = body[key]
        state.jobs[doc["id"]] = doc
        state.tasks[doc["id"]] = {}
        state.queue[doc["id"]] = deque()
        state.save_job(doc)
        state.notify()
        return doc


def find_job(state: BatchState, job_id: str) -> Doc | None:
    doc = state.jobs.get(job_id)
    if doc is not None:
        return doc
    lowered = job_id.lower()
    return next((d for k, d in state.jobs.items() if k.lower() == lowered), None)


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
                doc[key] = body[key]
            elif replace and key in ("metadata", "constraints"):
                doc.pop(key, None)
        if "constraints" not in doc:
            doc["constraints"] = {"maxWallClockTime": MAX_DURATION, "maxTaskRetryCount": 0}
        touch(doc)
        state.save_job(doc)
        state.notify()
        return doc


def terminate_job(state: BatchState, job_id: str, reason: str | None) -> None:
    with state.lock:
        doc = get_job(state, job_id)
        if doc["state"] == "deleting":
            raise BatchServiceError("JobBeingDeleted")
        if doc["state"] in ("completed", "terminating"):
            raise BatchServiceError("JobCompleted")
        doc["previousState"], doc["previousStateTransitionTime"] = (
            doc["state"], doc["stateTransitionTime"])
        set_state(doc, "terminating")
        doc["executionInfo"]["terminateReason"] = reason or "UserTerminate"
        touch(doc)
        state.save_job(doc)
        state.notify()


def delete_job(state: BatchState, job_id: str) -> Doc:
    with state.lock:
        doc = get_job(state, job_id)
        if doc["state"] == "deleting":
            return doc
        doc["previousState"], doc["previousStateTransitionTime"] = (
            doc["state"], doc["stateTransitionTime"])
        set_state(doc, "deleting")
        touch(doc)
        state.save_job(doc)
        state.notify()
        return doc
