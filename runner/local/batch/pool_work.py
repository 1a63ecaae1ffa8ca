"""The Batch service's work on pools and nodes: allocation and resizes (a shrinking pool's
deallocation option honoured), autoscale evaluations, node boots and start tasks,
preemption of low-priority nodes and their return, and the removal of what is gone.

A part of the scheduler (``scheduler.Scheduler`` is a ``PoolWork``), apart so that each
file holds one kind of work; it runs on the scheduler's loop thread with the state's lock.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from runner.local.batch import allocation, execution
from runner.local.batch.autoscale import Autoscaler
from runner.local.batch.preemption import Preemptions
from runner.local.batch.runtime import JobRuntime, PoolRuntime
from runner.local.batch.state import BatchState, Doc
from runner.local.batch.wire import now_iso, set_state
from runner.local.batch.work import NodeWork, Placement
from runner.local.nodes import container_run, layout
from runner.local.nodes.container_run import Engine

log = logging.getLogger("runner.local.batch")
NODE_AGENT_VERSION = "1.10.0"


class PoolWork:
    state: BatchState
    state_dir: Path
    engine: Engine | None
    work: NodeWork
    autoscaler: Autoscaler
    preemptions: Preemptions
    _salt: str

    def _delay(self, model: str) -> float:
        raise NotImplementedError  # the scheduler's: run-time progressions

    def stop_task(self, job_id: str, task_id: str, reason: str) -> None:
        raise NotImplementedError  # the scheduler's: it owns the running processes

    def _pool(self, pool: Doc) -> None:
        nodes = self.state.nodes.setdefault(pool["id"], {})
        record = self.state.pool_runtime(pool["id"])
        if pool["state"] == "deleting":
            self._stop_nodes(pool["id"], list(nodes))
            if record.gone_at is None:
                record.gone_at = time.time() + self._delay("batch.pool.delete")
            if time.time() >= record.gone_at and not self._node_work(pool["id"], list(nodes)):
                folder = layout.nodes_root(self.state_dir) / pool["id"]
                self._remove_then(record, [folder], lambda: self.state.forget_pool(pool["id"]))
            return
        self.autoscaler.tick(self.state, pool, record, time.time())
        if pool["allocationState"] == "stopping":
            # A stopped resize settles where it is (Batch shows "stopping" in between).
            set_state(pool, "steady", "allocationState")
            self.state.save_pool(pool)
        if pool["allocationState"] == "resizing":
            if record.steady_at is None:
                record.steady_at = time.time() + self._delay("batch.pool.allocation")
            if time.time() >= record.steady_at:
                self._resize(pool, record, nodes)
        for node in list(nodes.values()):
            if node["state"] == "rebooting":
                self._node_state(pool["id"], node, "starting")
            elif node["state"] == "starting":
                self._boot(pool, node)
            elif node["state"] == "preempted":
                self._come_back(pool["id"], node)

    def _resize(self, pool: Doc, record: PoolRuntime, nodes: dict[str, Doc]) -> None:
        target = pool["targetDedicatedNodes"] + pool["targetLowPriorityNodes"]
        while len(nodes) < target:
            index = record.node_seq
            record.node_seq = index + 1
            node_id = layout.new_node_id(pool["id"], index, self._salt)
            try:
                layout.make_node(layout.node_root(self.state_dir, pool["id"], node_id))
            except OSError as err:
                # A node that cannot be made here is one Azure could not allocate.
                reason = f"The node's folder could not be made: {err}"
                allocation.allocation_failed(pool, record, nodes, reason)
                self.state.save_pool(pool)
                return
            nodes[node_id] = allocation.new_node(pool, nodes, node_id, index)
            self.state.save_node(pool["id"], nodes[node_id])
        if len(nodes) > target:
            leaving = allocation.leaving(nodes, record, len(nodes) - target)
            self._leave(pool["id"], nodes, leaving, record.deallocation or "requeue")
            if len(nodes) > target:
                return
        for node in nodes.values():
            if node["state"] == "leavingpool":  # kept after all: the target rose again
                busy = self._node_work(pool["id"], [node["id"]])
                self._node_state(pool["id"], node, "running" if busy else "idle")
        allocation.settled(pool, record)
        # No new eTag: Azure's recorded pools kept theirs when a resize settled.
        self.state.save_pool(pool)

    def _boot(self, pool: Doc, node: Doc) -> None:
        # What a node reports once its agent runs (Azure's recorded node answers).
        now = now_iso()
        node["lastBootTime"] = now
        node["certificateReferences"] = list(pool.get("certificateReferences") or [])
        node["nodeAgentInfo"] = {"lastUpdateTime": now, "version": NODE_AGENT_VERSION}
        containers = (pool.get("virtualMachineConfiguration") or {}).get("containerConfiguration")
        if containers:
            images = list(containers.get("containerImageNames") or [])
            error = container_run.prefetch_error(self.engine, images)
            if error is not None:
                node["errors"] = [error]
                self._node_state(pool["id"], node, "unusable")
                return
        start_task = pool.get("startTask")
        if not start_task or not start_task.get("commandLine"):
            self._node_state(pool["id"], node, "idle")
            return
        wait = bool(start_task.get("waitForSuccess", True))
        node["startTask"] = start_task
        retry = node.get("startTaskInfo", {}).get("retryCount", 0)
        node["startTaskInfo"] = {"state": "running", "startTime": now_iso(), "retryCount": retry}
        self._node_state(pool["id"], node, "waitingforstarttask" if wait else "idle")
        where = Placement(
            pool["id"], node["id"], layout.node_root(self.state_dir, pool["id"], node["id"])
        )
        threading.Thread(
            target=execution.run_start_task,
            args=(self, dict(start_task), where),
            name=f"start-{node['id'][:12]}",
            daemon=True,
        ).start()

    def _node_state(self, pool_id: str, node: Doc, value: str) -> None:
        if node["state"] != value:
            set_state(node, value)
        self.state.save_node(pool_id, node)

    def _leave(self, pool_id: str, nodes: dict[str, Doc], leaving: list[str], how: str) -> None:
        """Nodes a shrinking pool gives up, as its deallocation option says: their tasks
        requeued or terminated at once, or (``taskcompletion``, ``retaineddata``) left to
        finish while the node, ``leavingpool``, takes no new one."""
        for node_id in leaving:
            if how in ("taskcompletion", "retaineddata"):
                self._node_state(pool_id, nodes[node_id], "leavingpool")
                self._stop_start_task(pool_id, node_id)
            else:
                self.stop_tasks_on(node_id, "terminated" if how == "terminate" else "requeue")
                self._stop_start_task(pool_id, node_id)
            if not self._node_work(pool_id, [node_id]):
                self.preemptions.forget((pool_id, node_id))
                self.state.forget_node(pool_id, node_id)
                self._remove_folder(layout.node_root(self.state_dir, pool_id, node_id))

    def preempt(self, pool_id: str, node: Doc, downtime: float) -> None:
        """Azure reclaims the low-priority node: its tasks go back to the queue."""
        self._node_state(pool_id, node, "preempted")
        for job_id, task_id in self.work.tasks_on(node["id"]):
            self.preemptions.lost.add((job_id, task_id))
            self.stop_task(job_id, task_id, "requeue")
        self._stop_start_task(pool_id, node["id"])
        self.preemptions.preempted((pool_id, node["id"]), time.time(), downtime)
        log.info("node %s of pool %s preempted", node["id"], pool_id)

    def _come_back(self, pool_id: str, node: Doc) -> None:
        """Spot capacity found again: the node, its id kept, starts afresh."""
        key = (pool_id, node["id"])
        if self._node_work(pool_id, [node["id"]]) or not self.preemptions.back(key, time.time()):
            return
        root = layout.node_root(self.state_dir, pool_id, node["id"])
        shutil.rmtree(root, ignore_errors=True)  # the VM was deleted, its disks with it
        layout.make_node(root)
        for gone in ("startTask", "startTaskInfo", "errors"):
            node.pop(gone, None)
        node.update(runningTasksCount=0, runningTaskSlotsCount=0, allocationTime=now_iso())
        self._node_state(pool_id, node, "starting")

    def _stop_start_task(self, pool_id: str, node_id: str) -> None:
        start = self.work.process(("start", pool_id, node_id))
        if start is not None:
            start.stop("shutdown")

    def _stop_nodes(self, pool_id: str, node_ids: list[str]) -> None:
        for node_id in node_ids:
            self.stop_tasks_on(node_id, "requeue")
            start = self.work.process(("start", pool_id, node_id))
            if start is not None:
                start.stop("shutdown")

    def stop_tasks_on(self, node_id: str, reason: str) -> None:
        """Stops every task running on the node (``requeue``, ``terminated``)."""
        for job_id, task_id in self.work.tasks_on(node_id):
            self.stop_task(job_id, task_id, reason)

    def _node_work(self, pool_id: str, node_ids: list[str]) -> bool:
        return self.work.has_work(pool_id, node_ids)

    def _remove_folder(self, path: Path) -> None:
        threading.Thread(target=shutil.rmtree, args=(path, True), daemon=True).start()

    def _remove_then(
        self, record: PoolRuntime | JobRuntime, folders: list[Path], forget: Callable[[], None]
    ) -> None:
        """Removes folders off the loop thread; the entity is gone (404) once they are."""
        if record.removing:
            return
        record.removing = True

        def work() -> None:
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
            with self.state.lock:
                forget()
                self.state.notify()

        threading.Thread(target=work, name="batch-remove", daemon=True).start()
