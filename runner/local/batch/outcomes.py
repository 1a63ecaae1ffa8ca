"""What a task attempt or a start task leaves on its task and node once it has run."""

from __future__ import annotations

from collections import deque

from runner.local.batch.state import BatchState, Doc, requeue
from runner.local.batch.tasks import finish, set_task_state
from runner.local.batch.wire import now_iso, set_state
from runner.local.batch.work import NodeWork, Placement


def mark_running(doc: Doc, where: Placement, job_id: str) -> None:
    set_task_state(doc, "running")
    info = doc["executionInfo"]
    info["startTime"] = now_iso()
    doc["nodeInfo"] = {
        "affinityId": f"TVM:{where.node_id}",
        "poolId": where.pool_id,
        "nodeId": where.node_id,
        "taskRootDirectory": f"workitems/{job_id}/job-1/{doc['id']}",
    }


# Attempts that end without completing the task: it goes back to the queue.
REQUEUED = ("requeue", "preempted")


def complete_task(doc: Doc, code: int | None, fail: Doc | None, reason: str | None) -> None:
    if reason in REQUEUED:
        requeue(doc, counted=reason == "requeue")
        return
    finish(doc, code, "failure" if fail else "success", fail)


def task_ended(
    state: BatchState,
    work: NodeWork,
    job_id: str,
    task_id: str,
    where: Placement,
    code: int | None,
    fail: Doc | None,
    reason: str | None,
) -> None:
    with state.lock:
        still_busy = work.release(where.node_id, job_id, task_id)
        task = state.tasks.get(job_id, {}).get(task_id)
        # A stop asked for while the attempt was starting up counts as its reason.
        if task is not None:
            record = state.task_runtime(job_id, task_id)
            reason, record.stop = reason or record.stop, None
        node = state.nodes.get(where.pool_id, {}).get(where.node_id)
        if node is not None:
            node["runningTasksCount"] = max(0, node["runningTasksCount"] - 1)
            slots = task.get("requiredSlots", 1) if task else 1
            node["runningTaskSlotsCount"] = max(0, node["runningTaskSlotsCount"] - slots)
            if reason not in (*REQUEUED, "shutdown", "deleted"):
                node["totalTasksRun"] += 1
                node["totalTasksSucceeded"] += 0 if fail else 1
            # A preempted or leaving node keeps its state; it runs nothing new.
            if node["state"] == "running" and not still_busy:
                set_state(node, "idle")
            state.save_node(where.pool_id, node)
        if reason == "shutdown" or task is None:
            return
        if reason == "deleted":
            state.forget_task(job_id, task_id)
        else:
            complete_task(task, code, fail, reason)
            if reason in REQUEUED:
                state.queue.setdefault(job_id, deque()).appendleft(task_id)
            state.save_task(job_id, task)
        state.notify()


def record_retry(state: BatchState, job_id: str, task_id: str, attempt: int) -> None:
    with state.lock:
        task = state.tasks.get(job_id, {}).get(task_id)
        if task is not None:
            task["executionInfo"]["retryCount"] = attempt
            task["executionInfo"]["lastRetryTime"] = now_iso()
            state.save_task(job_id, task)


def record_start_retry(state: BatchState, where: Placement, attempt: int) -> None:
    with state.lock:
        node = state.nodes.get(where.pool_id, {}).get(where.node_id)
        if node is not None:
            node["startTaskInfo"]["retryCount"] = attempt
            node["startTaskInfo"]["lastRetryTime"] = now_iso()
            state.save_node(where.pool_id, node)


def start_task_ended(
    state: BatchState, where: Placement, code: int | None, fail: Doc | None, reason: str | None
) -> None:
    with state.lock:
        node = state.nodes.get(where.pool_id, {}).get(where.node_id)
        if node is None or reason == "shutdown":
            return
        info = node.setdefault("startTaskInfo", {})
        info.update(
            {"state": "completed", "endTime": now_iso(), "result": "failure" if fail else "success"}
        )
        if code is not None:
            info["exitCode"] = code
        if fail:
            info["failureInfo"] = fail
        else:
            info.pop("failureInfo", None)
        wait = bool((node.get("startTask") or {}).get("waitForSuccess", True))
        if fail and wait:
            set_state(node, "starttaskfailed")
        elif node["state"] == "waitingforstarttask":
            set_state(node, "idle")
        state.save_node(where.pool_id, node)
        state.notify()
