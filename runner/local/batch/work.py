"""What runs where: the task attempts and start tasks placed on nodes, and their processes.

The scheduler owns one ``NodeWork``; placement reads it to count a job's running tasks,
node actions read it to stop what a node runs. Callers hold the Batch state's lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.local.nodes.process import Running

# ("task", job id, task id) or ("start", pool id, node id).
Key = tuple[str, str, str]


@dataclass(frozen=True)
class Placement:
    """The node a task attempt or a start task runs on, and that node's folder."""

    pool_id: str
    node_id: str
    root: Path


class NodeWork:
    def __init__(self) -> None:
        self._running: dict[Key, Running] = {}
        self._busy: dict[str, set[tuple[str, str]]] = {}  # node id -> placed (job, task)

    # placed tasks ------------------------------------------------------------------------

    def place(self, node_id: str, job_id: str, task_id: str) -> None:
        self._busy.setdefault(node_id, set()).add((job_id, task_id))

    def release(self, node_id: str, job_id: str, task_id: str) -> bool:
        """Takes the task off its node; True while the node still runs others."""
        busy = self._busy.get(node_id, set())
        busy.discard((job_id, task_id))
        return bool(busy)

    def tasks_on(self, node_id: str) -> list[tuple[str, str]]:
        """(job id, task id) of each task placed on the node and not yet ended."""
        return list(self._busy.get(node_id, ()))

    def busy_tasks(self, job_id: str) -> list[str]:
        """Ids of the job's tasks placed on a node and not yet ended."""
        return [task for busy in self._busy.values() for job, task in busy if job == job_id]

    def has_work(self, pool_id: str, node_ids: list[str]) -> bool:
        """Whether any of the nodes runs a task or its start task."""
        return any(self._busy.get(n) or ("start", pool_id, n) in self._running for n in node_ids)

    # processes ---------------------------------------------------------------------------

    def add_process(self, key: Key, running: Running) -> None:
        self._running[key] = running

    def remove_process(self, key: Key, running: Running) -> None:
        if self._running.get(key) is running:
            del self._running[key]

    def process(self, key: Key) -> Running | None:
        return self._running.get(key)

    def processes(self) -> list[Running]:
        return list(self._running.values())
