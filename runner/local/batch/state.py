"""The Batch account's live state: pools, nodes, jobs and tasks, in memory and on disk.

Each entity is its wire document plus the emulator's record of it (``runtime``), kept apart
so a document is served as it is. Reads are served from memory; every change is also queued
for the shared sqlite store and written there by a background flusher, so adding thousands
of tasks never waits on disk and a restarted emulator finds the account as it was. One lock
guards everything; the scheduler waits on ``changed`` to hear about new work.

Restart rule: a task that was preparing or running when the emulator stopped is requeued
(state ``active``, ``requeueCount`` + 1), as Azure Batch requeues the tasks of a node it
lost. Start tasks that had not finished run again. Processes a crashed emulator left
running are stopped first.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from runner.local.batch.runtime import (
    JobRuntime,
    NodeRuntime,
    PoolRuntime,
    TaskRuntime,
    loaded,
    stored,
)
from runner.local.batch.wire import now_iso
from runner.local.nodes.process import kill_leftover

Doc = dict[str, Any]

POOL, NODE, JOB, TASK = "batch.pool", "batch.node", "batch.job", "batch.task"
FLUSH_INTERVAL = 0.2


class DocStore(Protocol):
    def put(self, kind: str, key: str, doc: Doc) -> None: ...
    def delete(self, kind: str, key: str) -> bool: ...
    def items(self, kind: str, prefix: str = "") -> list[tuple[str, Doc]]: ...


class BatchState:
    """All Batch entities of one account. Callers hold ``lock`` while they read or change."""

    def __init__(self, store: DocStore, account: str, subscription: str = "") -> None:
        self.account = account
        # The subscription the account lives in (Batch names it in some error reasons).
        self.subscription = subscription
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.pools: dict[str, Doc] = {}
        self.nodes: dict[str, dict[str, Doc]] = {}
        self.jobs: dict[str, Doc] = {}
        self.tasks: dict[str, dict[str, Doc]] = {}
        # Lower-cased task ids per job: Batch ids are case-insensitive, and a set keeps the
        # existence check of each added task constant-time.
        self.task_names: dict[str, set[str]] = {}
        # Active task ids per job, in the order they were added: the scheduler's queue.
        self.queue: dict[str, deque[str]] = {}
        # The emulator's own records of each entity, keyed like the documents above.
        self._pool_runtime: dict[str, PoolRuntime] = {}
        self._job_runtime: dict[str, JobRuntime] = {}
        self._node_runtime: dict[str, dict[str, NodeRuntime]] = {}
        self._task_runtime: dict[str, dict[str, TaskRuntime]] = {}
        # Order of addition across restarts (tasks are reloaded in this order).
        self.next_seq = 1
        self._store = store
        self._dirty: dict[tuple[str, str], Doc | None] = {}
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        # Set by the scheduler: stops a task's process (job, task, reason).
        self.stop_task: Callable[[str, str, str], None] = lambda job, task, reason: None
        # The account URL clients use, learnt from requests (nodes see it as AZ_BATCH_ACCOUNT_URL).
        self.base_url = ""
        self._load()

    # persistence -----------------------------------------------------------------------

    def _load(self) -> None:
        for key, row in self._store.items(POOL):
            doc, pool_runtime = loaded(row, PoolRuntime)
            self.pools[key] = doc
            self._pool_runtime[key] = pool_runtime
            self.nodes.setdefault(key, {})
        for key, row in self._store.items(NODE):
            pool_id = key.split("/", 1)[0]
            doc, node_runtime = loaded(row, NodeRuntime)
            self.nodes.setdefault(pool_id, {})[doc["id"]] = doc
            self._node_runtime.setdefault(pool_id, {})[doc["id"]] = node_runtime
        for key, row in self._store.items(JOB):
            doc, job_runtime = loaded(row, JobRuntime)
            self.jobs[key] = doc
            self._job_runtime[key] = job_runtime
            self.tasks.setdefault(key, {})
            self.queue.setdefault(key, deque())
        tasks = sorted(
            ((key, *loaded(row, TaskRuntime)) for key, row in self._store.items(TASK)),
            key=lambda item: item[2].seq,
        )
        self.next_seq = max((record.seq for _, _, record in tasks), default=0) + 1
        for key, doc, record in tasks:
            job_id = key.split("/", 1)[0]
            self.tasks.setdefault(job_id, {})[doc["id"]] = doc
            self._task_runtime.setdefault(job_id, {})[doc["id"]] = record
            self.task_names.setdefault(job_id, set()).add(doc["id"].lower())
            if doc["state"] in ("preparing", "running"):
                kill_leftover(record.process)
                record.process = None
                requeue(doc)
                self.save_task(job_id, doc)
            if doc["state"] == "active":
                self.queue.setdefault(job_id, deque()).append(doc["id"])
        for pool_id, nodes in self.nodes.items():
            for node in nodes.values():
                if node.get("startTaskInfo", {}).get("state") == "running":
                    node_runtime = self.node_runtime(pool_id, node["id"])
                    kill_leftover(node_runtime.process)
                    node_runtime.process = None
                    node["state"] = "starting"
                elif node["state"] == "running":
                    node["state"] = "idle"  # its tasks were requeued above
                node["runningTasksCount"] = 0
                node["runningTaskSlotsCount"] = 0
                node.pop("recentTasks", None)
                self.save_node(pool_id, node)

    def start(self) -> None:
        self._flusher = threading.Thread(target=self._flush_loop, name="batch-flush", daemon=True)
        self._flusher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join(5)
        self.flush()

    def _flush_loop(self) -> None:
        while not self._stop.wait(FLUSH_INTERVAL):
            self.flush()

    def flush(self) -> None:
        with self._flush_lock:
            with self.lock:
                dirty, self._dirty = self._dirty, {}
            for (kind, key), doc in dirty.items():
                if doc is None:
                    self._store.delete(kind, key)
                else:
                    self._store.put(kind, key, doc)

    def _mark(self, kind: str, key: str, row: Doc | None) -> None:
        self._dirty[(kind, key)] = row

    # runtime records -----------------------------------------------------------------

    def pool_runtime(self, pool_id: str) -> PoolRuntime:
        return self._pool_runtime.setdefault(pool_id, PoolRuntime())

    def job_runtime(self, job_id: str) -> JobRuntime:
        return self._job_runtime.setdefault(job_id, JobRuntime())

    def node_runtime(self, pool_id: str, node_id: str) -> NodeRuntime:
        return self._node_runtime.setdefault(pool_id, {}).setdefault(node_id, NodeRuntime())

    def task_runtime(self, job_id: str, task_id: str) -> TaskRuntime:
        return self._task_runtime.setdefault(job_id, {}).setdefault(task_id, TaskRuntime())

    def take_seq(self) -> int:
        """The next number in the order tasks are added."""
        seq, self.next_seq = self.next_seq, self.next_seq + 1
        return seq

    # saving and forgetting ---------------------------------------------------------------

    def save_pool(self, doc: Doc) -> None:
        self._mark(POOL, doc["id"], stored(doc, self.pool_runtime(doc["id"])))

    def save_node(self, pool_id: str, doc: Doc) -> None:
        row = stored(doc, self.node_runtime(pool_id, doc["id"]))
        self._mark(NODE, f"{pool_id}/{doc['id']}", row)

    def save_job(self, doc: Doc) -> None:
        self._mark(JOB, doc["id"], stored(doc, self.job_runtime(doc["id"])))

    def save_task(self, job_id: str, doc: Doc) -> None:
        row = stored(doc, self.task_runtime(job_id, doc["id"]))
        self._mark(TASK, f"{job_id}/{doc['id']}", row)

    def forget_pool(self, pool_id: str) -> None:
        for node_id in self.nodes.pop(pool_id, {}):
            self._mark(NODE, f"{pool_id}/{node_id}", None)
        self._node_runtime.pop(pool_id, None)
        self.pools.pop(pool_id, None)
        self._pool_runtime.pop(pool_id, None)
        self._mark(POOL, pool_id, None)

    def forget_node(self, pool_id: str, node_id: str) -> None:
        self.nodes.get(pool_id, {}).pop(node_id, None)
        self._node_runtime.get(pool_id, {}).pop(node_id, None)
        self._mark(NODE, f"{pool_id}/{node_id}", None)

    def forget_task(self, job_id: str, task_id: str) -> None:
        self.tasks.get(job_id, {}).pop(task_id, None)
        self._task_runtime.get(job_id, {}).pop(task_id, None)
        self.task_names.get(job_id, set()).discard(task_id.lower())
        self._mark(TASK, f"{job_id}/{task_id}", None)

    def forget_job(self, job_id: str) -> None:
        for task_id in self.tasks.pop(job_id, {}):
            self._mark(TASK, f"{job_id}/{task_id}", None)
        self._task_runtime.pop(job_id, None)
        self.queue.pop(job_id, None)
        self.task_names.pop(job_id, None)
        self.jobs.pop(job_id, None)
        self._job_runtime.pop(job_id, None)
        self._mark(JOB, job_id, None)

    def notify(self) -> None:
        with self.changed:
            self.changed.notify_all()


def find_by_id(docs: dict[str, Doc], doc_id: str) -> Doc | None:
    """Batch ids are case-insensitive: "Pool1" and "pool1" name the same pool or job."""
    doc = docs.get(doc_id)
    if doc is not None:
        return doc
    lowered = doc_id.lower()
    return next((d for k, d in docs.items() if k.lower() == lowered), None)


def requeue(task: Doc, counted: bool = True) -> None:
    """Puts a task that lost its node back in the queue, as Batch does. ``counted``:
    ``requeueCount`` counts it (Batch counts the requeues a user asked for, not a node's
    preemption)."""
    now = now_iso()
    info = task.setdefault("executionInfo", {"retryCount": 0, "requeueCount": 0})
    if counted:
        info["requeueCount"] = info.get("requeueCount", 0) + 1
        info["lastRequeueTime"] = now
    for key in ("startTime", "endTime", "exitCode", "failureInfo", "result"):
        info.pop(key, None)
    task.pop("nodeInfo", None)
    task["previousState"], task["previousStateTransitionTime"] = (
        task["state"],
        task["stateTransitionTime"],
    )
    task["state"], task["stateTransitionTime"] = "active", now
