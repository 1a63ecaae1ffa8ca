"""Task placement on nodes (task slots, fill type, job priority) and recording outcomes."""

from __future__ import annotations

import copy
import threading
from collections import deque
from typing import TYPE_CHECKING

from runner.local.batch import execution
from runner.local.batch.execution import Placement
from runner.local.batch.jobs import pool_of
from runner.local.batch.pools import set_state
from runner.local.batch.state import Doc
from runner.local.batch.wire import now_iso
from runner.local.nodes import layout

if TYPE_CHECKING:
    from runner.local.batch.scheduler import Scheduler

READY = ("idle", "running")


def _free_nodes(sched: Scheduler, pool: Doc) -> list[Doc]:
    slots = pool["taskSlotsPerNode"]
    nodes = [n for n in sched.state.nodes.get(pool["id"], {}).values()
             if n["state"] in READY and n.get("schedulingState", "enabled") == "enabled"
             and n["runningTaskSlotsCount"] < slots]
    return nodes


def _pick(nodes: list[Doc], slots: int, needed: int, fill: str) -> Doc | None:
    fitting = [n for n in nodes if slots - n["runningTaskSlotsCount"] >= needed]
    if not fitting:
        return None
    if fill == "pack":
        return max(fitting, key=lambda n: n["runningTaskSlotsCount"])
    return min(fitting, key=lambda n: n["runningTaskSlotsCount"])


def dispatch(sched: Scheduler) -> None:
    state = sched.state
    jobs = sorted((j for j in state.jobs.values() if j["state"] == "active"),
                  key=lambda j: (-j.get("priority", 0), j["creationTime"]))
    for job in jobs:
        pool = state.pools.get(pool_of(job))
        if pool is None or pool["state"] != "active":
            continue
        nodes = _free_nodes(sched, pool)
        if not nodes:
            continue
        limit = job.get("maxParallelTasks", -1)
        running = len(sched.busy_tasks(job["id"]))
        queue = state.queue.get(job["id"])
        tasks = state.tasks.get(job["id"], {})
        fill = (pool.get("taskSchedulingPolicy") or {}).get("nodeFillType", "spread").lower()
        while queue and (limit < 0 or running < limit):
            task = tasks.get(queue[0])
            if task is None or task["state"] != "active":
                queue.popleft()
                continue
            node = _pick(nodes, pool["taskSlotsPerNode"], task.get("requiredSlots", 1), fill)
            if node is None:
                break
            queue.popleft()
            _launch(sched, pool, node, job["id"], task)
            running += 1


def _launch(sched: Scheduler, pool: Doc, node: Doc, job_id: str, task: Doc) -> None:
    where = Placement(pool["id"], node["id"],
                      layout.node_root(sched.state_dir, pool["id"], node["id"]))
    execution.mark_running(task, where, job_id)
    task.pop("_stop", None)
    sched.state.save_task(job_id, task)
    node["runningTasksCount"] += 1
    node["runningTaskSlotsCount"] += task.get("requiredSlots", 1)
    sched._busy.setdefault(node["id"], set()).add((job_id, task["id"]))
    if node["state"] != "running":
        set_state(node, "running")
    sched.state.save_node(pool["id"], node)
    threading.Thread(target=execution.run_task, args=(sched, job_id, copy.deepcopy(task), where),
                     name=f"task-{task['id'][:24]}", daemon=True).start()


def task_ended(sched: Scheduler, job_id: str, task_id: str, where: Placement,
               code: int | None, fail: Doc | None, reason: str | None) -> None:
    state = sched.state
    with state.lock:
        busy = sched._busy.get(where.node_id, set())
        busy.discard((job_id, task_id))
        task = state.tasks.get(job_id, {}).get(task_id)
        # A stop asked for while the attempt was starting up counts as its reason.
        reason = reason or (task or {}).pop("_stop", None)
        node = state.nodes.get(where.pool_id, {}).get(where.node_id)
        if node is not None:
            node["runningTasksCount"] = max(0, node["runningTasksCount"] - 1)
            slots = task.get("requiredSlots", 1) if task else 1
            node["runningTaskSlotsCount"] = max(0, node["runningTaskSlotsCount"] - slots)
            if reason not in ("requeue", "shutdown", "deleted"):
                node["totalTasksRun"] += 1
                node["totalTasksSucceeded"] += 0 if fail else 1
            if node["state"] == "running" and not busy:
                set_state(node, "idle")
            state.save_node(where.pool_id, node)
        if reason == "shutdown" or task is None:
            return
        if reason == "deleted":
            state.forget_task(job_id, task_id)
        else:
            execution.complete_task(task, code, fail, reason)
            if reason == "requeue":
                state.queue.setdefault(job_id, deque()).appendleft(task_id)
            state.save_task(job_id, task)
        state.notify()


def record_retry(sched: Scheduler, job_id: str, task_id: str, attempt: int) -> None:
    with sched.state.lock:
        task = sched.state.tasks.get(job_id, {}).get(task_id)
        if task is not None:
            task["executionInfo"]["retryCount"] = attempt
            task["executionInfo"]["lastRetryTime"] = now_iso()
            sched.state.save_task(job_id, task)


def record_start_retry(sched: Scheduler, where: Placement, attempt: int) -> None:
    with sched.state.lock:
        node = sched.state.nodes.get(where.pool_id, {}).get(where.node_id)
        if node is not None:
            node["startTaskInfo"]["retryCount"] = attempt
            node["startTaskInfo"]["lastRetryTime"] = now_iso()
            sched.state.save_node(where.pool_id, node)


def start_task_ended(sched: Scheduler, where: Placement, code: int | None, fail: Doc | None,
                     reason: str | None) -> None:
    state = sched.state
    with state.lock:
        node = state.nodes.get(where.pool_id, {}).get(where.node_id)
        if node is None or reason == "shutdown":
            return
        info = node.setdefault("startTaskInfo", {})
        info.update({"state": "completed", "endTime": now_iso(),
                     "result": "failure" if fail else "success"})
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
