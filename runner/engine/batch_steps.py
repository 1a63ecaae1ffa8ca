"""The create steps of a Batch run, each a step of the engine's executor: a blob container,
the uploads, the pool, the job, removing tasks that run again, and adding tasks in
parallel chunks of 100."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from runner.backends import batch_tasks as bt
from runner.backends.batch_account import TaskForm, task_forms
from runner.backends.batch_metadata import blob_metadata
from runner.engine.batch_context import RETRY_POLICY, BatchContext
from runner.engine.events import StepProgress
from runner.engine.executor import StepOutcome
from runner.engine.poll import Poll, PollSchedule, poll_until
from runner.errors import PermanentError
from runner.plan.action import Action
from runner.plan.batch_desired import LocalFile
from runner.plan.batch_secrets import SecretUnset, secrets_text
from runner.plan.model import Change

UPLOAD_WORKERS = 8
CHUNK_WORKERS = 8  # add-task-collection requests in flight at once
ADD_ATTEMPTS = 5  # per chunk, for tasks the service failed to add with a server error
GONE_POLL = PollSchedule(first=0.2, factor=1.5, cap=5.0)  # a pool or job being deleted
STALE_POLL = PollSchedule(first=0.1, factor=2.0, cap=2.0)  # a task being deleted


def create_container(ctx: BatchContext, change: Change) -> StepOutcome:
    md = blob_metadata(ctx.name, ctx.workspace, stamp=ctx.desired.stamp)
    ctx.retry(str(change.address), partial(ctx.blobs.create_container, change.address.leaf, md))
    return StepOutcome()


def upload(ctx: BatchContext, files: Sequence[LocalFile]) -> StepOutcome:
    """Upload the files (absent or changed), several at once."""
    metadata = blob_metadata(ctx.name, ctx.workspace, stamp=ctx.desired.stamp)

    def one(f: LocalFile) -> None:
        at = ctx.address("blob", f.container, f.blob)
        ctx.retry(at, lambda: ctx.blobs.upload(f, metadata))

    with ThreadPoolExecutor(UPLOAD_WORKERS) as pool:
        list(pool.map(one, files))
    return StepOutcome(counts={"uploaded": len(files)}, detail={"uploaded": len(files)})


def pool(ctx: BatchContext, change: Change) -> StepOutcome:
    at, pool_id = str(change.address), ctx.spec.pool.id
    if change.action is Action.REPLACE:
        ctx.retry(at, lambda: ctx.batch.delete_pool(pool_id))
    if change.action in (Action.CREATE, Action.REPLACE):
        if change.waits_for_delete:
            _wait_gone(ctx, at, f"pool {pool_id}", lambda: ctx.batch.pool_exists(pool_id))
        ctx.retry(at, lambda: ctx.batch.create_pool(ctx.desired, ctx.signer(), ctx.workspace))
    elif change.action is Action.UPDATE:
        # None for an autoscaled pool: its counts are its formula's.
        nodes = (change.before or {}).get("nodes")
        ctx.retry(
            at, lambda: ctx.batch.update_pool(ctx.desired, ctx.signer(), ctx.workspace, nodes)
        )
        if any(p.startswith("pool.startTask") for p in change.paths):
            # Tasks that run again must find the new start task's files on every node.
            ctx.retry(at, lambda: ctx.batch.reboot_nodes(pool_id))
    return StepOutcome()


def job(ctx: BatchContext, change: Change) -> StepOutcome:
    at, job_id = str(change.address), ctx.spec.job.id
    if change.action is Action.REPLACE:
        ctx.retry(at, lambda: ctx.batch.delete_job(job_id))
    if change.waits_for_delete:
        _wait_gone(ctx, at, f"job {job_id}", lambda: ctx.batch.job_exists(job_id))
    ctx.retry(at, lambda: ctx.batch.create_job(ctx.desired, ctx.workspace))
    return StepOutcome()


def _wait_gone(ctx: BatchContext, at: str, what: str, exists: Callable[[], bool]) -> None:
    """Until a pool or job being deleted is gone, so that one of the same id can be made."""
    poll_until(
        lambda: Poll(not exists(), None),
        address=at,
        what=f"waiting for {what} to be deleted",
        emit=ctx.emit,
        clock=ctx.clock,
        deadline=ctx.deadline,
        schedule=GONE_POLL,
        policy=RETRY_POLICY,
        timeout_message=f"timed out: {what} is still being deleted",
    )


def remove_stale(ctx: BatchContext, task_ids: Sequence[str]) -> StepOutcome:
    """Delete tasks that were added with another definition; a running one is stopped
    first, and its id is free only once it is gone."""
    at, job_id = ctx.address("job", ctx.spec.job.id), ctx.spec.job.id

    def one(task_id: str) -> None:
        ctx.retry(at, partial(ctx.batch.delete_task, job_id, task_id))
        poll_until(
            lambda: Poll(not ctx.batch.task_exists(job_id, task_id), None),
            address=at,
            what=f"waiting for task {task_id} to be deleted",
            emit=ctx.emit,
            clock=ctx.clock,
            deadline=ctx.deadline,
            schedule=STALE_POLL,
            policy=RETRY_POLICY,
            wait_out=True,
            timeout_message=ctx.timed_out,
        )

    with ThreadPoolExecutor(CHUNK_WORKERS) as workers:
        list(workers.map(one, task_ids))
    n = len(task_ids)
    return StepOutcome(counts={"tasks_rerun": n}, detail={"removed": n})


def add_tasks(ctx: BatchContext, task_ids: set[str], done: Collection[str] = ()) -> StepOutcome:
    """Add the missing tasks, and again those whose definition or inputs changed since
    they were added: chunks of 100, several requests in flight at once."""
    at = ctx.address("job", ctx.spec.job.id)
    clear_outputs(ctx, at, task_ids)
    upload_secrets(ctx, at)
    signer = ctx.signer()
    out_url = signer.write_container(ctx.desired.containers["output"])
    wanted = [t for t in ctx.desired.tasks if t.id in task_ids]
    forms = task_forms(
        wanted,
        ctx.spec.tasks,
        signer,
        out_url,
        merge=ctx.spec.merge,
        out_container=ctx.desired.containers["output"],
        done=frozenset(done),
    )
    total = add_in_chunks(ctx, at, forms)
    counts = {"tasks_added": len(total.added), "tasks_present": len(total.existing)}
    if total.failed:
        first = "; ".join(f"{k}: {v}" for k, v in list(total.failed.items())[:3])
        raise PermanentError(f"{len(total.failed)} task(s) could not be added: {first}")
    return StepOutcome(counts=counts)


def upload_secrets(ctx: BatchContext, at: str) -> None:
    """The job's secrets, read from runner's environment now, as the blob the tasks being
    added fetch (``runner.plan.batch_secrets``): never in an event, a plan or Batch."""
    secrets = ctx.desired.secrets
    if secrets is None:
        return
    try:
        data = secrets_text(secrets, os.environ)
    except SecretUnset as exc:
        raise PermanentError(str(exc)) from None
    metadata = blob_metadata(ctx.name, ctx.workspace, stamp=ctx.desired.stamp)
    upload = partial(ctx.blobs.upload_bytes, secrets.container, secrets.blob, data, metadata)
    ctx.retry(at, upload)


def clear_outputs(ctx: BatchContext, at: str, task_ids: set[str]) -> None:
    """Delete what earlier runs of these task ids left in the output container (one
    paged list), so that a task which does not write an output cannot have an old one
    collected as its own."""
    container = ctx.desired.containers["output"]
    names = ctx.retry(at, partial(ctx.blobs.list_names, container))
    stale = [n for n in names if n.partition("/")[0] in task_ids]
    if not stale:
        return

    def one(name: str) -> None:
        ctx.retry(at, partial(ctx.blobs.delete_blob, container, name))

    with ThreadPoolExecutor(UPLOAD_WORKERS) as workers:
        list(workers.map(one, stale))


def add_in_chunks(ctx: BatchContext, at: str, forms: list[TaskForm]) -> bt.ChunkResult:
    """Add tasks in chunks of 100 with several requests in flight, telling how many are
    in as the chunks come back."""
    chunks = [forms[i : i + bt.CHUNK_SIZE] for i in range(0, len(forms), bt.CHUNK_SIZE)]
    total = bt.ChunkResult()
    with ThreadPoolExecutor(CHUNK_WORKERS) as ex:
        for result in ex.map(lambda chunk: add_with_retries(ctx, at, chunk), chunks):
            total.merge(result)
            added = len(total.added)
            ctx.emit(
                StepProgress(
                    address=at,
                    message=f"added {added} of {len(forms)} tasks",
                    counts={"added": added, "total": len(forms)},
                )
            )
    return total


def add_with_retries(ctx: BatchContext, at: str, chunk: list[TaskForm]) -> bt.ChunkResult:
    """One chunk; tasks the service failed to add with a server error go again."""
    job_id = ctx.spec.job.id
    total = bt.ChunkResult()
    pending = chunk
    for _ in range(ADD_ATTEMPTS):
        result = ctx.retry(at, partial(ctx.batch.add_tasks, job_id, pending))
        retry = set(result.retry)
        result.retry = []
        total.merge(result)
        pending = [t for t in pending if t.id in retry]
        if not pending:
            return total
        ctx.sleep(0.5)
    failed = f"ServerError: not added after {ADD_ATTEMPTS} attempts"
    total.failed.update({t.id: failed for t in pending})
    return total
