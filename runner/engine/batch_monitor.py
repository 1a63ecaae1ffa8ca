"""Waiting for a Batch job's tasks and collecting what they left.

The wait sends one request per poll (``get_job_task_counts``), never a list of all
tasks, backing off while nothing changes; per-task exit codes come from one task list
once everything has completed, or once nothing runs and what is left waits for a task
that failed and blocks it (Batch keeps such tasks active for good). Only when tasks
wait and nothing moves for a few polls is the pool looked at, to fail early when it
cannot run them (``batch_health.py``).

Collect downloads each task's outputs, and the stdout and stderr of failed ones, into
the collect folder, refusing any name that would land outside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from runner.backends import blob
from runner.engine.batch_context import RETRY_POLICY, BatchContext
from runner.engine.batch_dependencies import blocked
from runner.engine.batch_health import PoolWatch
from runner.engine.events import StepProgress
from runner.engine.executor import StepOutcome
from runner.engine.poll import Poll, PollSchedule, poll_until
from runner.errors import PermanentError
from runner.plan.batch import ObservedTask
from runner.plan.batch_desired import DesiredTask

POLL = PollSchedule(first=0.25, factor=1.5, cap=10.0)
PROGRESS_EVERY = 15.0  # seconds: progress (elapsed time) is shown even when nothing changed
STD_FILES = ("stdout.txt", "stderr.txt")

Completed = tuple[dict[str, int], dict[str, ObservedTask]]  # the last counts, every task


def wait(ctx: BatchContext) -> StepOutcome:
    """The wait step: its outcome hands every task's result on to collect."""
    counts, results = _poll_tasks(ctx, confirm=True)
    return StepOutcome(detail=counts, value=results)


def wait_for_tasks(ctx: BatchContext) -> dict[str, int]:
    """Poll task counts until every task of the job has completed; the last counts."""
    return _poll_tasks(ctx, confirm=False)[0]


def _poll_tasks(ctx: BatchContext, *, confirm: bool) -> Completed:
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

    def look() -> Poll[Completed | None]:
        nonlocal last, shown
        counts = ctx.retry(at, lambda: ctx.batch.task_counts(job_id))
        moved = counts != last
        now = ctx.clock.now()
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


def collect(ctx: BatchContext, results: Mapping[str, ObservedTask]) -> StepOutcome:
    """Download outputs of completed tasks (and std files of failed ones) into the
    collect folder; counts succeeded, failed and downloaded. A failed task, or a
    missing output, is among the outcome's errors."""
    container = ctx.desired.containers["output"]
    root = Path(ctx.spec.collect.dir)
    at = ctx.address("collect", str(root))
    out = StepOutcome(counts={"succeeded": 0, "failed": 0, "downloaded": 0})
    names = ctx.retry(at, lambda: ctx.blobs.list_names(container))
    by_task: dict[str, list[str]] = {}
    for name in names:
        task_id, _, rest = name.partition("/")
        if rest:
            by_task.setdefault(task_id, []).append(rest)
    stuck = blocked(ctx.desired.tasks, results)
    for task in ctx.desired.tasks:
        seen = results.get(task.id)
        if task.id in stuck:
            out.counts["blocked"] = out.counts.get("blocked", 0) + 1
            out.errors.append(
                f"task {task.id} did not run: {stuck[task.id]}; Batch keeps it active"
            )
            continue
        if seen is None or seen.state != "completed":
            continue
        if seen.identity != task.identity:
            # Replaced in the job by another run while this one waited: its result was
            # computed from another definition, so it is not this run's.
            out.errors.append(
                f"task {task.id} in job {ctx.spec.job.id} ran another command or "
                "other inputs than this spec's; its outputs were not collected"
            )
            continue
        ok = seen.succeeded
        out.counts["succeeded" if ok else "failed"] += 1
        if not ok:
            out.errors.append(
                f"task {task.id} failed ({seen.why}); see {root / task.id}/stderr.txt"
            )
        for rel in by_task.get(task.id, []):
            is_std = rel in STD_FILES
            if (is_std and ok) or rel in task.handed_on:
                continue  # handed on: uploaded for the merge task, not collected
            dest_rel = f"{task.id}/{rel}" if is_std else rel
            try:
                dest = blob.safe_destination(root, dest_rel)
            except Exception as exc:
                out.errors.append(str(exc))
                continue
            ctx.retry(at, partial(ctx.blobs.download, container, f"{task.id}/{rel}", dest))
            out.outputs.append(str(dest))
            out.counts["downloaded"] += 1
        out.errors += _missing_outputs(task, by_task.get(task.id, []), ok, container)
    out.detail = {"downloaded": out.counts["downloaded"], "dir": str(root)}
    return out


def _missing_outputs(task: DesiredTask, present: list[str], ok: bool, container: str) -> list[str]:
    if not ok:
        return []
    return [
        f"task {task.id} succeeded but {container} holds no {task.id}/{pattern}"
        for pattern in task.outputs
        if not any(ch in pattern for ch in "*?[") and pattern not in present
    ]
