"""Low-priority nodes taken away and given back, as Azure reclaims and returns spot
capacity: which nodes a ``preempt`` fault rule takes and when, and when each comes back.

A preempted node stays in the pool (``state: preempted``, still counted among its
low-priority nodes, as Batch lists it), its tasks go back to the queue with neither their
retry nor their requeue count raised (Batch counts user requeues only), and it gets no
new task. Batch keeps seeking its low-priority target: the node keeps its id and comes
back reinitialized (its local files gone, its start task run again).
"""

from __future__ import annotations

from runner.local.batch.state import Doc
from runner.local.faults import FaultInjector

NodeKey = tuple[str, str]  # (pool id, node id)
# A node found preempted with no return planned (the emulator restarted) comes back after.
DEFAULT_DOWNTIME = 1.0


class Preemptions:
    def __init__(self, faults: FaultInjector | None) -> None:
        self._faults = faults
        self._due: dict[NodeKey, tuple[float, float]] = {}  # -> (preempt at, downtime)
        self._back: dict[NodeKey, float] = {}  # preempted node -> back at
        self.lost: set[tuple[str, str]] = set()  # (job, task) attempts a preemption ended

    def task_started(self, pool_id: str, node: Doc, now: float) -> None:
        """A task attempt starts on the node: a low-priority one may be preempted."""
        key = (pool_id, node["id"])
        if self._faults is None or node.get("isDedicated", True) or key in self._due:
            return
        rule = self._faults.preemption(pool_id, node["id"])
        if rule is not None:
            self._due[key] = (now + rule.after, rule.downtime)

    def due(self, now: float) -> list[tuple[NodeKey, float]]:
        """The nodes to preempt now, with how long each stays away."""
        ready = [(k, down) for k, (at, down) in self._due.items() if at <= now]
        for key, _ in ready:
            del self._due[key]
        return ready

    def preempted(self, key: NodeKey, now: float, downtime: float) -> None:
        self._back[key] = now + downtime

    def back(self, key: NodeKey, now: float) -> bool:
        """Whether the preempted node is to come back now."""
        at = self._back.setdefault(key, now + DEFAULT_DOWNTIME)
        if at > now:
            return False
        del self._back[key]
        return True

    def forget(self, key: NodeKey) -> None:
        self._due.pop(key, None)
        self._back.pop(key, None)
