"""Waiting for a Batch job's tasks and collecting what they left.

The wait sends one request per poll (``get_job_task_counts``), never a list of all
tasks, backing off while nothing changes; per-task exit codes come from one task list
once everything has completed, or once nothing runs and what is left waits for a task
that failed and blocks it (Batch keeps such tasks active for good). Only when tasks
wait and nothing moves for a few polls is the pool looked at, to fail early when it
cannot run them (``batch_health.py``).

While tasks complete, the wait also hands them to a ``Collector`` (``batch_collect.py``),
which downloads their outputs as the others run: at most every ``STREAM_EVERY`` seconds,
and only when the counts show more completed tasks, it lists the completed ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from runner.engine.batch_collect import Collector
from runner.engine.batch_context import RETRY_POLICY, BatchContext
from runner.engine.batch_dependencies import blocked
from runner.engine.batch_health import PoolWatch
from runner.engine.events import StepProgress
from runner.engine.executor import StepOutcome
from runner.engine.poll import Poll, PollSchedule, poll_until
from runner.errors import PermanentError
from runner.plan.batch import ObservedTask

POLL = PollSchedule(first=0.25, factor=1.5, cap=10.0)
PROGRESS_EVERY = 15.0  # seconds: progress (elapsed time) is shown even when nothing changed
# Seconds between listings of the completed tasks while others run.
STREAM_EVERY = 2.0

Completed = tuple[dict[str, int], dict[str, ObservedTask]]  # the last counts, every task


def wait(ctx: BatchContext, collector: Collector | None = None) -> StepOutcome:
    """The wait step: its outcome hands every task's result on to collect; completed
    tasks go to ``collector`` as they are seen."""
    counts, results = _poll_tasks(ctx, confirm=True, collector=collector)
    return StepOutcome(detail=counts, value=results)


def wait_for_tasks(ctx: BatchContext) -> dict[str, int]:
    """Poll task counts until every task of the job has completed; the last counts."""
    return _poll_tasks(ctx, confirm=False)[0]


def _poll_tasks(
    ctx: BatchContext, *, confirm: bool, collector: Collector | None = None
) -> Completed:
    """Poll task counts until every task of the job has completed; with ``confirm``,
    then read every task once. Task counts may lag behind new tasks (Batch says so), so
    when the list shows one of ours not completed yet, polling goes on. Raises
    ``Deadline`` at the job's timeout, ``Cancelled`` on Ctrl-C, and
    ``PoolCannotRunTasks`` as soon as the pool is found unable to run the tasks."""
    job_id = ctx.spec.job.id
    at = ctx.address("job", job_id)
    expected = len(ctx.desired.tasks)
    timeout = int(ctx.spec.timeout.total_seconds())
    watch = PoolWatch(ctx)
    last: dict[str, int] = {}
    shown = -math.inf
    streamed, streamed_at = 0, -math.inf  # completed count and time of the last listing

    def look() -> Poll[Completed | None]:
        nonlocal last, shown, streamed, streamed_at
        counts = ctx.retry(at, lambda: ctx.batch.task_counts(job_id))
        moved = counts != last
        now = ctx.clock.now()
        done = counts.get("completed", 0)
        if collector is not None and done > streamed and now - streamed_at >= STREAM_EVERY:
            streamed, streamed_at = done, now
            collector.seen(ctx.retry(at, lambda: ctx.batch.read_tasks(job_id, "completed")))
        if moved or now - shown >= PROGRESS_EVERY:
            shown = now
            ctx.emit(_progress(at, counts, int(now - ctx.started), timeout))
        last = counts
        busy = counts.get("active", 0) + counts.get("running", 0)
        if busy == 0 and counts.get("completed", 0) >= expected:
            if not confirm:
                return Poll(True, (counts, {}))
            results = ctx.retry(at, lambda: ctx.batch.read_tasks(job_id))
            missing = [t.id for t in ctx.desired.tasks if t.id not in results]
            if missing:
                raise PermanentError(f"{len(missing)} task(s) missing from the job: {missing[:3]}")
            if all(results[t.id].state == "completed" for t in ctx.desired.tasks):
                return Poll(True, (counts, results))
            last = {}  # the counts lag: look again soon, as after a change
            return Poll(False, None, moved=True)
        if _stalled(counts, expected) and ctx.desired.uses_dependencies:
            results = ctx.retry(at, lambda: ctx.batch.read_tasks(job_id))
            if _only_blocked_left(ctx, results):
                return Poll(True, (counts, results))
        watch.after_poll(counts)
        return Poll(False, None, moved=moved)

    done = poll_until(
        look,
        address=at,
        what="poll",
        emit=ctx.emit,
        clock=ctx.clock,
        deadline=ctx.deadline,
        schedule=POLL,
        policy=RETRY_POLICY,
        wait_out=True,
        timeout_message=ctx.timed_out,
    )
    assert done is not None
    return done


def _stalled(counts: Mapping[str, int], expected: int) -> bool:
    """Nothing runs, some task failed and every other one is completed or waits: what
    a job whose dependent tasks a failure blocked looks like in its task counts."""
    active, done = counts.get("active", 0), counts.get("completed", 0)
    return (
        counts.get("running", 0) == 0
        and counts.get("failed", 0) > 0
        and active > 0
        and active + done >= expected
    )


def _only_blocked_left(ctx: BatchContext, results: Mapping[str, ObservedTask]) -> bool:
    waiting = [
        t.id for t in ctx.desired.tasks if t.id in results and results[t.id].state != "completed"
    ]
    if len(results) < len(ctx.desired.tasks) or not waiting:
        return False
    stuck = blocked(ctx.desired.tasks, results)
    return all(t in stuck for t in waiting)


def _progress(at: str, counts: Mapping[str, int], elapsed: int, timeout: int) -> StepProgress:
    active, running = counts.get("active", 0), counts.get("running", 0)
    succeeded, failed = counts.get("succeeded", 0), counts.get("failed", 0)
    return StepProgress(
        address=at,
        message=f"{active} active, {running} running, {succeeded} succeeded, {failed} failed",
        # Elapsed and timeout travel as counts; renderers draw them.
        counts={
            "active": active,
            "running": running,
            "succeeded": succeeded,
            "failed": failed,
            "elapsed": elapsed,
            "timeout": timeout,
        },
    )
