"""The Batch service's background work: jobs, task dispatch and attempts, deletes; the work
on pools and nodes (allocation, autoscale, boots, preemption) is ``pool_work``'s.

One loop thread looks at the state whenever it changes (and a few times a second); each
start task and task attempt runs in a thread of its own (see ``execution``). Deletes wait
``delete_delay`` seconds so clients see ``state: deleting`` before the 404, as on Azure.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from pathlib import Path

from runner.local.batch import execution, outcomes
from runner.local.batch.autoscale import Autoscaler
from runner.local.batch.dispatch import dispatch
from runner.local.batch.jobs import release_auto_pool
from runner.local.batch.pool_work import PoolWork
from runner.local.batch.preemption import Preemptions
from runner.local.batch.state import BatchState, Doc
from runner.local.batch.wire import now_iso, parse_duration, set_state
from runner.local.batch.work import Key, NodeWork, Placement
from runner.local.faults import FaultInjector
from runner.local.nodes import layout
from runner.local.nodes.container_run import Engine
from runner.local.nodes.process import Running
from runner.local.transitions import Progressions

log = logging.getLogger("runner.local.batch")
TICK = 0.2
DELETE_DELAY = 0.5


class Scheduler(PoolWork):
    def __init__(
        self,
        state: BatchState,
        state_dir: Path,
        progressions: Progressions | None = None,
        engine: Engine | None = None,
        *,
        faults: FaultInjector | None = None,
        autoscale_speedup: float = 300.0,
    ):
        self.state = state
        self.state_dir = Path(state_dir)
        # The Docker engine of container pools' tasks (``nodes.container_run``).
        self.engine = engine
        # Per-model timing chosen at run time (``/_runner/transitions``): model names
        # "batch.pool.allocation", "batch.pool.delete" and "batch.job.delete".
        self.progressions = progressions
        self.work = NodeWork()
        # Autoscale formulas at their intervals; preempt fault rules on low-priority nodes.
        self.autoscaler = Autoscaler(autoscale_speedup)
        self.preemptions = Preemptions(faults)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._salt = str(time.time_ns())
        state.stop_task = self.stop_task

    def _delay(self, model: str) -> float:
        defaults = {"batch.pool.delete": DELETE_DELAY, "batch.job.delete": DELETE_DELAY}
        if self.progressions is None or model not in self.progressions.as_dict():
            return defaults.get(model, 0.0)
        return self.progressions.get(model).delay()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="batch-scheduler", daemon=True)
        self._thread.start()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        self._stopping.set()
        self.state.notify()
        with self.state.lock:
            running = self.work.processes()
        for item in running:
            item.stop("shutdown")
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                with self.state.changed:
                    self.tick()
                    self.state.changed.wait(TICK)
            except Exception:  # a bug in one tick must not stop the service
                log.exception("batch scheduler tick failed")
                time.sleep(TICK)

    # running processes -------------------------------------------------------------------

    def register(self, key: Key, running: Running) -> bool:
        with self.state.lock:
            if self._stopping.is_set():
                return False
            self.work.add_process(key, running)
            # Remembered so a restart after a crash can stop what this emulator left running.
            ident = running.identity()
            kind, first, second = key
            if kind == "task" and second in self.state.tasks.get(first, {}):
                task = self.state.tasks[first][second]
                record = self.state.task_runtime(first, second)
                record.process = ident
                self.state.save_task(first, task)
                if record.stop:  # stopped while it was still fetching its files
                    running.stop(record.stop)
            elif kind == "start" and second in self.state.nodes.get(first, {}):
                self.state.node_runtime(first, second).process = ident
                self.state.save_node(first, self.state.nodes[first][second])
        # Written now rather than by the next flush: a crash a moment later must find it.
        self.state.flush()
        return True

    def unregister(self, key: Key, running: Running) -> None:
        with self.state.lock:
            self.work.remove_process(key, running)

    def stop_task(self, job_id: str, task_id: str, reason: str) -> None:
        with self.state.lock:
            running = self.work.process(("task", job_id, task_id))
            if task_id in self.state.tasks.get(job_id, {}):
                self.state.task_runtime(job_id, task_id).stop = reason
        if running is not None:
            running.stop(reason)

    # one pass ----------------------------------------------------------------------------

    def tick(self) -> None:
        for (pool_id, node_id), downtime in self.preemptions.due(time.time()):
            node = self.state.nodes.get(pool_id, {}).get(node_id)
            if node is not None and node["state"] not in ("preempted", "leavingpool"):
                self.preempt(pool_id, node, downtime)
        for pool_id in list(self.state.pools):
            self._pool(self.state.pools[pool_id])
        for job_id in list(self.state.jobs):
            self._job(self.state.jobs[job_id])
        self._dispatch()

    def _job(self, job: Doc) -> None:
        job_id = job["id"]
        running = self.work.busy_tasks(job_id)
        record = self.state.job_runtime(job_id)
        if job["state"] == "deleting":
            for task_id in running:
                self.stop_task(job_id, task_id, "deleted")
            if record.gone_at is None:
                record.gone_at = time.time() + self._delay("batch.job.delete")
            if time.time() >= record.gone_at and not running:
                folders = [
                    layout.node_root(self.state_dir, pool_id, node_id) / "workitems" / job_id
                    for pool_id, nodes in self.state.nodes.items()
                    for node_id in nodes
                ]
                self._remove_then(record, folders, lambda: self.state.forget_job(job_id))
            return
        if job["state"] == "terminating":
            for task_id in running:
                self.stop_task(job_id, task_id, "terminated")
            if not running:
                self._complete_job(job)
            return
        if job["state"] != "active":
            return
        limit = parse_duration(job.get("constraints", {}).get("maxWallClockTime"))
        if limit is not None and record.started is None:
            record.started = time.time()  # the clock starts when the job first has a limit
        if (
            limit is not None
            and record.started is not None
            and time.time() - record.started > limit
        ):
            job["executionInfo"]["terminateReason"] = "MaxWallClockTimeExpiry"
            set_state(job, "terminating")
            self.state.save_job(job)
        elif job.get("onAllTasksComplete") == "terminatejob" and self._all_done(job_id):
            job["executionInfo"]["terminateReason"] = "AllTasksComplete"
            self._complete_job(job)

    def _all_done(self, job_id: str) -> bool:
        tasks = self.state.tasks.get(job_id, {})
        return bool(tasks) and all(t["state"] == "completed" for t in tasks.values())

    def _complete_job(self, job: Doc) -> None:
        job["previousState"] = job["state"]
        set_state(job, "completed")
        job["executionInfo"]["endTime"] = now_iso()
        release_auto_pool(self.state, job)
        self.state.save_job(job)

    def job_environment(self, job_id: str) -> list[dict[str, str]]:
        with self.state.lock:
            job = self.state.jobs.get(job_id) or {}
            return list(job.get("commonEnvironmentSettings") or [])

    # task attempts -----------------------------------------------------------------------

    def _dispatch(self) -> None:
        dispatch(self.state, self.work, self._launch)

    def _launch(self, pool: Doc, node: Doc, job_id: str, task: Doc) -> None:
        where = Placement(
            pool["id"], node["id"], layout.node_root(self.state_dir, pool["id"], node["id"])
        )
        outcomes.mark_running(task, where, job_id)
        self.state.task_runtime(job_id, task["id"]).stop = None
        self.state.save_task(job_id, task)
        node["runningTasksCount"] += 1
        node["runningTaskSlotsCount"] += task.get("requiredSlots", 1)
        self.work.place(node["id"], job_id, task["id"])
        self.preemptions.task_started(pool["id"], node, time.time())
        if node["state"] != "running":
            set_state(node, "running")
        self.state.save_node(pool["id"], node)
        threading.Thread(
            target=execution.run_task,
            args=(self, job_id, copy.deepcopy(task), where),
            name=f"task-{task['id'][:24]}",
            daemon=True,
        ).start()

    def record_retry(self, job_id: str, task_id: str, attempt: int) -> None:
        outcomes.record_retry(self.state, job_id, task_id, attempt)

    def record_start_retry(self, where: Placement, attempt: int) -> None:
        outcomes.record_start_retry(self.state, where, attempt)

    def task_ended(
        self,
        job_id: str,
        task_id: str,
        where: Placement,
        code: int | None,
        fail: Doc | None,
        reason: str | None,
    ) -> None:
        with self.state.lock:
            if (job_id, task_id) in self.preemptions.lost:
                self.preemptions.lost.discard((job_id, task_id))
                reason = "preempted" if reason == "requeue" else reason
        outcomes.task_ended(self.state, self.work, job_id, task_id, where, code, fail, reason)

    def start_task_ended(
        self, where: Placement, code: int | None, fail: Doc | None, reason: str | None
    ) -> None:
        outcomes.start_task_ended(self.state, where, code, fail, reason)
