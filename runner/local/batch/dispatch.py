"""Task placement on nodes: task slots, fill type, job priority, parallel-task limits and
task dependencies (a task waits, queued, until what it depends on satisfies it)."""

from __future__ import annotations

from collections.abc import Callable

from runner.local.batch import dependencies
from runner.local.batch.jobs import pool_of
from runner.local.batch.state import BatchState, Doc
from runner.local.batch.work import NodeWork

READY = ("idle", "running")
# Starts a task on a node: (pool, node, job id, task).
Launch = Callable[[Doc, Doc, str, Doc], None]


def _free_nodes(state: BatchState, pool: Doc) -> list[Doc]:
    slots = pool["taskSlotsPerNode"]
    nodes = [
        n
        for n in state.nodes.get(pool["id"], {}).values()
        if n["state"] in READY
        and n.get("schedulingState", "enabled") == "enabled"
        and n["runningTaskSlotsCount"] < slots
    ]
    return nodes


def _pick(nodes: list[Doc], slots: int, needed: int, fill: str) -> Doc | None:
    fitting = [n for n in nodes if slots - n["runningTaskSlotsCount"] >= needed]
    if not fitting:
        return None
    if fill == "pack":
        return max(fitting, key=lambda n: n["runningTaskSlotsCount"])
    return min(fitting, key=lambda n: n["runningTaskSlotsCount"])


def dispatch(state: BatchState, work: NodeWork, launch: Launch) -> None:
    """Launches the queued tasks that fit on free nodes, higher job priorities first."""
    jobs = sorted(
        (j for j in state.jobs.values() if j["state"] == "active"),
        key=lambda j: (-j.get("priority", 0), j["creationTime"]),
    )
    for job in jobs:
        pool = state.pools.get(pool_of(job))
        if pool is None or pool["state"] != "active":
            continue
        nodes = _free_nodes(state, pool)
        if not nodes:
            continue
        limit = job.get("maxParallelTasks", -1)
        running = len(work.busy_tasks(job["id"]))
        queue = state.queue.get(job["id"])
        tasks = state.tasks.get(job["id"], {})
        fill = (pool.get("taskSchedulingPolicy") or {}).get("nodeFillType", "spread").lower()
        waiting: list[str] = []  # tasks whose dependencies are not satisfied yet
        while queue and (limit < 0 or running < limit):
            task = tasks.get(queue[0])
            if task is None or task["state"] != "active":
                queue.popleft()
                continue
            if not dependencies.ready(task, tasks):
                # Stays queued, in its place: a task behind it may run meanwhile.
                waiting.append(queue.popleft())
                continue
            node = _pick(nodes, pool["taskSlotsPerNode"], task.get("requiredSlots", 1), fill)
            if node is None:
                break
            queue.popleft()
            launch(pool, node, job["id"], task)
            running += 1
        if queue is not None:
            queue.extendleft(reversed(waiting))
