"""Waiting for a Batch job's tasks and collecting what they left.

The monitor sends one request per poll (``get_job_task_counts``), never a list of all
tasks, backing off while nothing changes; per-task exit codes come from one task list
once everything has completed. Only when tasks wait and nothing moves for a few polls is
the pool looked at, to fail early when it cannot run them (``batch_health.py``).

Collect downloads each task's outputs, and the stdout and stderr of failed ones, into
the collect folder, refusing any name that would land outside it.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from runner.backends import batch as bb
from runner.backends import blob
from runner.engine.batch_context import BatchRun, Stop
from runner.engine.batch_health import PoolWatch
from runner.engine.events import StepFinished, StepProgress, StepStarted
from runner.errors import PermanentError, RunnerError
from runner.plan.batch import ObservedTask
from runner.plan.batch import step_address as address
from runner.plan.batch_desired import DesiredTask

POLL_START = 0.25
POLL_CAP = 10.0
PROGRESS_EVERY = 15.0  # seconds: progress (elapsed time) is shown even when nothing changed
STD_FILES = ("stdout.txt", "stderr.txt")


def wait_for_tasks(run: BatchRun) -> dict[str, int]:
    """Poll task counts until every task of the job has completed; raises ``TimedOut``
    or ``Stop`` from ``run.check`` when the deadline passes or Ctrl-C comes, and
    ``PoolCannotRunTasks`` as soon as the pool is found unable to run them."""
    spec = run.desired.spec
    step = address(run.name, "job", spec.job.id)
    expected = len(run.desired.tasks)
    timeout = int(spec.timeout.total_seconds())
    run.emit(StepStarted(address=step, step="poll"))
    try:
        return _poll(run, step, expected, timeout)
    except Stop:
        run.emit(StepFinished(address=step, step="poll", outcome="cancelled"))
        raise
    except RunnerError as exc:
        run.emit(StepFinished(address=step, step="poll", outcome="failed", message=str(exc)))
        raise


def _poll(run: BatchRun, step: str, expected: int, timeout: int) -> dict[str, int]:
    client = run.clients["batch"]
    job_id = run.desired.spec.job.id
    watch = PoolWatch(run)
    delay = POLL_START
    last: dict[str, int] = {}
    shown = 0.0
    while True:
        counts = run.retry(step, lambda: bb.task_counts(client, job_id))
        if counts != last or time.monotonic() - shown >= PROGRESS_EVERY:
            shown = time.monotonic()
            elapsed = int(time.monotonic() - run.started)
            run.emit(
                StepProgress(
                    address=step,
                    # Elapsed and timeout travel as counts; renderers draw them.
                    message=(
                        f"{counts.get('active', 0)} active, {counts.get('running', 0)} running, "
                        f"{counts.get('succeeded', 0)} succeeded, {counts.get('failed', 0)} failed"
                    ),
                    counts={
                        "active": counts.get("active", 0),
                        "running": counts.get("running", 0),
                        "succeeded": counts.get("succeeded", 0),
                        "failed": counts.get("failed", 0),
                        "elapsed": elapsed,
                        "timeout": timeout,
                    },
                )
            )
        if counts != last:
            delay = POLL_START
        last = counts
        busy = counts.get("active", 0) + counts.get("running", 0)
        if busy == 0 and counts.get("completed", 0) >= expected:
            run.emit(StepFinished(address=step, step="poll", outcome="ok", detail=counts))
            return counts
        watch.after_poll(counts)
        run.sleep(delay)
        delay = min(delay * 1.5, POLL_CAP)


def task_results(run: BatchRun) -> dict[str, ObservedTask]:
    client = run.clients["batch"]
    job_id = run.desired.spec.job.id
    step = address(run.name, "job", job_id)
    return run.retry(step, lambda: bb.read_tasks(client, job_id))


def wait_until_complete(run: BatchRun) -> dict[str, ObservedTask]:
    """Poll the counts, then read every task once. Task counts may lag behind new tasks
    (Batch says so), so when the list shows one of ours not completed yet, poll again."""
    while True:
        wait_for_tasks(run)
        results = task_results(run)
        missing = [t.id for t in run.desired.tasks if t.id not in results]
        if missing:
            raise PermanentError(f"{len(missing)} task(s) missing from the job: {missing[:3]}")
        if all(results[t.id].state == "completed" for t in run.desired.tasks):
            return results
        run.sleep(POLL_START)


def collect(
    run: BatchRun, results: dict[str, ObservedTask], outputs: list[str], errors: list[str]
) -> None:
    """Download outputs of completed tasks (and std files of failed ones) into the
    collect folder; counts succeeded, failed and downloaded."""
    service = run.clients["blob"]
    container = run.desired.containers["output"]
    root = Path(run.desired.spec.collect.dir)
    step = address(run.name, "collect", str(root))
    run.emit(StepStarted(address=step, step="collect"))
    names = run.retry(step, lambda: blob.list_names(service, container))
    by_task: dict[str, list[str]] = {}
    for name in names:
        task_id, _, rest = name.partition("/")
        if rest:
            by_task.setdefault(task_id, []).append(rest)
    for task in run.desired.tasks:
        seen = results.get(task.id)
        if seen is None or seen.state != "completed":
            continue
        if seen.identity != task.identity:
            # Replaced in the job by another run while this one waited: its result was
            # computed from another definition, so it is not this run's.
            errors.append(
                f"task {task.id} in job {run.desired.spec.job.id} ran another command or "
                "other inputs than this spec's; its outputs were not collected"
            )
            continue
        ok = seen.succeeded
        run.count("succeeded" if ok else "failed")
        if not ok:
            why = seen.why
            errors.append(f"task {task.id} failed ({why}); see {root / task.id}/stderr.txt")
        for rel in by_task.get(task.id, []):
            is_std = rel in STD_FILES
            if is_std and ok:
                continue
            dest_rel = f"{task.id}/{rel}" if is_std else rel
            try:
                dest = blob.safe_destination(root, dest_rel)
            except Exception as exc:
                errors.append(str(exc))
                continue
            run.retry(step, partial(blob.download, service, container, f"{task.id}/{rel}", dest))
            outputs.append(str(dest))
            run.count("downloaded")
        _missing_outputs(task, by_task.get(task.id, []), ok, container, errors)
    run.emit(
        StepFinished(
            address=step,
            step="collect",
            outcome="ok",
            detail={"downloaded": run.counts["downloaded"], "dir": str(root)},
        )
    )


def _missing_outputs(
    task: DesiredTask, present: list[str], ok: bool, container: str, errors: list[str]
) -> None:
    if not ok:
        return
    for pattern in task.outputs:
        if not any(ch in pattern for ch in "*?[") and pattern not in present:
            errors.append(f"task {task.id} succeeded but {container} holds no {task.id}/{pattern}")
