"""Noticing early that a Batch pool cannot run the job's tasks, instead of at the timeout.

The rule, at bounded cost: a poll is one request (``get_job_task_counts``). The pool is
looked at only when tasks are waiting, none is running and the counts have not changed
for ``STALL_POLLS`` polls in a row; a look costs one pool ``get``, plus one node list once
the pool is steady with nodes, plus one small file read per failed node when it fails.
After a look that finds nothing wrong the count starts again, so with the poll's backoff
(capped at 10 s) a stalled job costs at most one look per ``STALL_POLLS`` polls, and a job
whose tasks run never costs any.

The pool cannot run tasks when it is gone or being deleted, when its allocation is steady
with no node (resize errors, or a node count of 0), or when every node is unusable
(``starttaskfailed`` after a start task with ``waitForSuccess`` failed, or ``unusable``).
A pool still resizing, or with some usable node, is given time, and so is an autoscaled
pool with no node yet (its formula adds nodes at its next evaluation): the job's timeout
stays the last word.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.backends import batch_nodes as bn
from runner.engine.batch_context import BatchContext
from runner.engine.events import StepProgress
from runner.errors import PermanentError

STALL_POLLS = 4
BROKEN_NODE_STATES = frozenset({"starttaskfailed", "unusable"})
STDERR_LINES = 3


class PoolCannotRunTasks(PermanentError):
    """The job's pool cannot run any task: waiting for the timeout would change nothing."""


@dataclass
class PoolWatch:
    ctx: BatchContext
    looks: int = 0  # pool looks made, for tests and counters
    _unchanged: int = 0
    _last: dict[str, int] = field(default_factory=dict)
    _told: set[str] = field(default_factory=set)

    def after_poll(self, counts: dict[str, int]) -> None:
        """Called with each poll's counts; raises ``PoolCannotRunTasks`` when the pool has
        been looked at and found unable to run the waiting tasks."""
        stalled = counts.get("active", 0) > 0 and counts.get("running", 0) == 0
        self._unchanged = self._unchanged + 1 if stalled and counts == self._last else 0
        self._last = counts
        if self._unchanged < STALL_POLLS:
            return
        self._unchanged = 0
        self.looks += 1
        self.look(counts.get("active", 0))

    def look(self, waiting: int) -> None:
        ctx = self.ctx
        pool_id = ctx.spec.pool.id
        step = ctx.address("pool", pool_id)
        pool = ctx.retry(step, lambda: ctx.batch.read_allocation(pool_id))
        tasks = f"{waiting} waiting task(s)"
        if pool is None or pool.state == "deleting":
            raise PoolCannotRunTasks(
                f"pool {pool_id} {'is gone' if pool is None else 'is being deleted'}; "
                f"the job's {tasks} cannot run"
            )
        if pool.allocation_state != "steady":
            return
        if pool.current_nodes == 0:
            if pool.auto_scale and not pool.resize_errors:
                # Batch evaluates the formula at its interval: nodes may come at the next.
                self._note(
                    step,
                    f"pool {pool_id} has no nodes yet; its autoscale formula "
                    f"sizes it at each evaluation, and the job's {tasks} wait for it",
                )
                return
            if pool.resize_errors:
                why = "; ".join(pool.resize_errors)
                raise PoolCannotRunTasks(f"pool {pool_id} could not allocate nodes: {why}")
            raise PoolCannotRunTasks(
                f"pool {pool_id} has no nodes (target {pool.target_nodes}); the job's {tasks} "
                "cannot run"
            )
        nodes = ctx.retry(step, lambda: ctx.batch.read_nodes(pool_id))
        broken = [n for n in nodes if n.state in BROKEN_NODE_STATES]
        if nodes and len(broken) == len(nodes):
            details = "; ".join(self._describe(n) for n in broken[:3])
            more = f" (and {len(broken) - 3} more)" if len(broken) > 3 else ""
            raise PoolCannotRunTasks(
                f"pool {pool_id} cannot run tasks: every node is unusable: {details}{more}"
            )
        for node in broken:
            if node.id not in self._told:
                self._told.add(node.id)
                ctx.emit(
                    StepProgress(
                        address=step,
                        message=f"{self._describe(node)}; tasks run on the other nodes",
                    )
                )

    def _note(self, step: str, message: str) -> None:
        if message not in self._told:
            self._told.add(message)
            self.ctx.emit(StepProgress(address=step, message=message))

    def _describe(self, node: bn.NodeHealth) -> str:
        if node.state != "starttaskfailed":
            said = f" ({'; '.join(node.errors)})" if node.errors else ""
            return f"node {node.id} is {node.state}{said}"
        parts = []
        if node.start_task_exit_code is not None:
            parts.append(f"exit code {node.start_task_exit_code}")
        if node.start_task_failure:
            parts.append(node.start_task_failure)
        text = f"node {node.id}: start task failed ({', '.join(parts) or 'no detail'})"
        stderr = self.ctx.batch.start_task_stderr(self.ctx.spec.pool.id, node.id)
        tail = [line.strip() for line in stderr.splitlines() if line.strip()][-STDERR_LINES:]
        if tail:
            text += f"; stderr ends: {' | '.join(tail)}"
        return text
