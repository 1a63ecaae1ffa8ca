"""Task rules: add one or a collection, read, list, count, terminate and delete."""

from __future__ import annotations

from collections import deque
from typing import Any

from runner.local.batch import defaults, dependencies
from runner.local.batch.checks import check_id, container_settings, duration, number, require
from runner.local.batch.errors import BatchServiceError
from runner.local.batch.jobs import get_job, writable_job
from runner.local.batch.state import BatchState, Doc
from runner.local.batch.wire import MAX_DURATION, new_etag, now_iso, set_state, touch

MAX_TASKS_PER_COLLECTION = 100
KEPT = (
    "displayName",
    "exitConditions",
    "resourceFiles",
    "outputFiles",
    "environmentSettings",
    "affinityInfo",
    "containerSettings",
    "multiInstanceSettings",
    "dependsOn",
    "applicationPackageReferences",
    "authenticationTokenSettings",
)


def _new_task(body: dict[str, Any]) -> Doc:
    require(body, "id")
    settings = body.get("containerSettings")
    # A container task may leave its command line empty to run the image's ENTRYPOINT
    # as it is (Batch's container docs); every other task needs one.
    if settings is None or body.get("commandLine") is None:
        require(body, "commandLine")
    check_id(body["id"])
    if settings is not None:
        settings = container_settings(settings)
    duration(body.get("constraints") or {}, "maxWallClockTime")
    number(body.get("constraints") or {}, "maxTaskRetryCount", 0, -1, 100)
    now = now_iso()
    doc: Doc = {
        "id": body["id"],
        "eTag": new_etag(),
        "lastModified": now,
        "creationTime": now,
        "state": "active",
        "stateTransitionTime": now,
        "commandLine": body["commandLine"],
        "constraints": {
            "maxWallClockTime": MAX_DURATION,
            "retentionTime": "P7D",
            "maxTaskRetryCount": 0,
            **(body.get("constraints") or {}),
        },
        "requiredSlots": number(body, "requiredSlots", 1, 1, 256),
        "executionInfo": {"retryCount": 0, "requeueCount": 0},
    }
    for key in KEPT:
        if body.get(key) is not None:
            doc[key] = body[key]
    doc["userIdentity"] = defaults.user_identity(body.get("userIdentity"))
    if settings is not None:
        # The registry's password is used on the node, never shown again.
        doc["containerSettings"] = defaults.without_secrets(settings)
    return doc


def _add(state: BatchState, job: Doc, doc: Doc) -> None:
    dependencies.check(doc, job)
    names = state.task_names.setdefault(job["id"], set())
    if doc["id"].lower() in names:
        raise BatchServiceError("TaskExists")
    names.add(doc["id"].lower())
    state.task_runtime(job["id"], doc["id"]).seq = state.take_seq()
    state.tasks[job["id"]][doc["id"]] = doc
    state.queue[job["id"]].append(doc["id"])
    state.save_task(job["id"], doc)


def create_task(state: BatchState, job_id: str, body: dict[str, Any]) -> Doc:
    doc = _new_task(body)
    with state.lock:
        job = writable_job(state, job_id)
        _add(state, job, doc)
        state.notify()
        return doc


def create_tasks(state: BatchState, job_id: str, values: list[Any]) -> tuple[Doc, list[Doc]]:
    """One result per task: ``success`` or ``clienterror`` with Batch's error."""
    if len(values) > MAX_TASKS_PER_COLLECTION:
        raise BatchServiceError("RequestBodyTooLarge")
    results: list[Doc] = []
    with state.lock:
        job = writable_job(state, job_id)
        for body in values:
            task_id = body.get("id") if isinstance(body, dict) else None
            try:
                if not isinstance(body, dict):
                    raise BatchServiceError("InvalidRequestBody")
                doc = _new_task(body)
                _add(state, job, doc)
            except BatchServiceError as err:
                results.append(
                    {
                        "status": "clienterror",
                        "taskId": task_id or "",
                        "error": {
                            "code": err.code,
                            "message": {"lang": "en-US", "value": err.message},
                            **(
                                {"values": [{"key": k, "value": v} for k, v in err.values.items()]}
                                if err.values
                                else {}
                            ),
                        },
                    }
                )
                continue
            results.append(
                {
                    "status": "success",
                    "taskId": doc["id"],
                    "eTag": doc["eTag"],
                    "lastModified": doc["lastModified"],
                }
            )
        state.notify()
    return job, results


def _find(state: BatchState, job_id: str, task_id: str) -> Doc | None:
    tasks = state.tasks[job_id]
    doc = tasks.get(task_id)
    lowered = task_id.lower()
    if doc is not None or lowered not in state.task_names.get(job_id, ()):
        return doc
    return next((d for k, d in tasks.items() if k.lower() == lowered), None)


def get_task(state: BatchState, job_id: str, task_id: str) -> tuple[Doc, Doc]:
    job = get_job(state, job_id)
    doc = _find(state, job["id"], task_id)
    if doc is None:
        raise BatchServiceError("TaskNotFound")
    return job, doc


def task_counts(state: BatchState, job_id: str) -> Doc:
    with state.lock:
        job = get_job(state, job_id)
        counts = dict.fromkeys(("active", "running", "completed", "succeeded", "failed"), 0)
        slots = dict(counts)
        for task in state.tasks[job["id"]].values():
            # Batch counts a preparing task as running.
            name = "running" if task["state"] == "preparing" else task["state"]
            size = task.get("requiredSlots", 1)
            counts[name] += 1
            slots[name] += size
            if name == "completed":
                result = task["executionInfo"].get("result")
                outcome = "succeeded" if result == "success" else "failed"
                counts[outcome] += 1
                slots[outcome] += size
        return {"taskCounts": counts, "taskSlotCounts": slots}


def delete_task(state: BatchState, job_id: str, task_id: str) -> None:
    """Forgets the task; a running one is stopped first and forgotten when it has ended."""
    with state.lock:
        job, doc = get_task(state, job_id, task_id)
        if doc["state"] in ("preparing", "running"):
            state.stop_task(job["id"], doc["id"], "deleted")
        else:
            state.forget_task(job["id"], doc["id"])


def terminate_task(state: BatchState, job_id: str, task_id: str) -> None:
    with state.lock:
        job, doc = get_task(state, job_id, task_id)
        if doc["state"] == "completed":
            return
        if doc["state"] == "active":
            finish(
                doc,
                None,
                "failure",
                {
                    "category": "usererror",
                    "code": "TaskEnded",
                    "message": "The task was terminated",
                },
            )
            touch(doc)
            state.save_task(job["id"], doc)
        else:
            state.stop_task(job["id"], doc["id"], "terminated")


def set_task_state(doc: Doc, new: str) -> None:
    """Moves the task along. Batch's own transitions leave ``eTag`` and ``lastModified``
    as they were (a recorded task kept both from creation to completion); only requests
    that change the task touch them."""
    doc["previousState"] = doc["state"]
    doc["previousStateTransitionTime"] = doc["stateTransitionTime"]
    set_state(doc, new)


def finish(doc: Doc, exit_code: int | None, result: str, failure: Doc | None) -> None:
    """Moves a task to completed with its outcome."""
    info = doc.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
    info["endTime"] = now_iso()
    info.setdefault("startTime", info["endTime"])
    if exit_code is not None:
        info["exitCode"] = exit_code
    info["result"] = result
    if failure:
        info["failureInfo"] = failure
    else:
        info.pop("failureInfo", None)
    set_task_state(doc, "completed")


def replace_task(state: BatchState, job_id: str, task_id: str, body: dict[str, Any]) -> Doc:
    """PUT of a task: only its constraints can change (Batch's Task - Update)."""
    constraints = body.get("constraints") or {}
    duration(constraints, "maxWallClockTime")
    duration(constraints, "retentionTime")
    number(constraints, "maxTaskRetryCount", 0, -1, 100)
    with state.lock:
        job, doc = get_task(state, job_id, task_id)
        if doc["state"] == "completed":
            raise BatchServiceError("TaskCompleted")
        doc["constraints"] = {
            "maxWallClockTime": MAX_DURATION,
            "retentionTime": "P7D",
            "maxTaskRetryCount": 0,
            **constraints,
        }
        touch(doc)
        state.save_task(job["id"], doc)
        return doc


def reactivate_task(state: BatchState, job_id: str, task_id: str) -> Doc:
    """Makes a failed task active again, its retry count back at 0."""
    with state.lock:
        job, doc = get_task(state, job_id, task_id)
        if job["state"] in ("completed", "terminating", "deleting"):
            raise BatchServiceError(
                "JobCompleted" if job["state"] != "deleting" else "JobBeingDeleted"
            )
        if doc["state"] != "completed":
            raise BatchServiceError(
                "OperationNotValidAtThisTime",
                "Only a completed task that failed can be reactivated.",
            )
        if doc["executionInfo"].get("result") != "failure":
            raise BatchServiceError("TaskNotFailed")
        info = doc["executionInfo"]
        for key in ("startTime", "endTime", "exitCode", "failureInfo", "result", "lastRetryTime"):
            info.pop(key, None)
        info["retryCount"] = 0
        doc.pop("nodeInfo", None)
        set_task_state(doc, "active")
        touch(doc)
        state.queue.setdefault(job["id"], deque()).append(doc["id"])
        state.save_task(job["id"], doc)
        state.notify()
        return doc
