"""The create steps of a Batch run, in the design's order: containers and uploads, the
pool, the job, then the tasks in parallel chunks of 100."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from runner.backends import batch as bb
from runner.backends import batch_nodes, blob
from runner.backends import batch_tasks as bt
from runner.backends.batch_metadata import blob_metadata
from runner.backends.sas import SasSigner
from runner.engine.batch_context import BatchRun
from runner.engine.events import StepFinished, StepProgress, StepStarted
from runner.errors import PermanentError
from runner.plan.action import Action
from runner.plan.batch import step_address as address
from runner.plan.model import Change

UPLOAD_WORKERS = 8
CHUNK_WORKERS = 8  # add-task-collection requests in flight at once


def by_kind(changes: list[Change], piece: str) -> list[Change]:
    """The changes to one kind of piece of the spec: ``container``, ``blob``, ``task``..."""
    return [c for c in changes if c.address.part is not None and c.address.part.kind == piece]


def storage(run: BatchRun, changes: list[Change]) -> None:
    service = run.clients["blob"]
    for change in by_kind(changes, "container"):
        if change.action is Action.CREATE:
            name, at = change.address.leaf, str(change.address)
            run.emit(StepStarted(address=at, step="create"))
            md = blob_metadata(run.name, run.workspace)
            run.retry(at, partial(blob.create_container, service, name, md))
            run.emit(StepFinished(address=at, step="create", outcome="ok"))

    files = {address(run.name, "blob", f.container, f.blob): f for f in run.desired.uploads}
    todo = [c for c in by_kind(changes, "blob") if c.action in (Action.CREATE, Action.UPDATE)]
    run.count("skipped", sum(1 for c in by_kind(changes, "blob") if c.action is Action.NOOP))
    if not todo:
        return
    step = address(run.name, "blob")
    run.emit(StepStarted(address=step, step="upload"))
    metadata = blob_metadata(run.name, run.workspace)

    def one(change: Change) -> None:
        f = files[str(change.address)]
        run.retry(str(change.address), lambda: blob.upload(service, f, metadata))
        run.count("uploaded")

    with ThreadPoolExecutor(UPLOAD_WORKERS) as pool:
        list(pool.map(one, todo))
    run.emit(
        StepFinished(address=step, step="upload", outcome="ok", detail={"uploaded": len(todo)})
    )


def pool(run: BatchRun, change: Change, signer: SasSigner) -> None:
    client = run.clients["batch"]
    pool_id = run.desired.spec.pool.id
    if change.action is Action.NOOP:
        return
    step = {Action.CREATE: "create", Action.REPLACE: "replace", Action.UPDATE: "update"}
    at = str(change.address)
    run.emit(StepStarted(address=at, step=step[change.action]))
    if change.action is Action.REPLACE:
        run.retry(at, lambda: bb.delete_pool(client, pool_id))
    if change.action in (Action.CREATE, Action.REPLACE):
        if change.waits_for_delete:
            run.retry(at, lambda: bb.wait_gone(client, "pool", pool_id, run.deadline))
        create = partial(bb.create_pool, client, run.desired, signer, run.workspace)
        run.retry(at, create)
    elif change.action is Action.UPDATE:
        nodes = int((change.before or {}).get("nodes", -1))
        run.retry(
            at,
            lambda: bb.update_pool(client, run.desired, signer, run.workspace, nodes),
        )
        if any(p.startswith("pool.startTask") for p in change.paths):
            # Tasks that run again must find the new start task's files on every node.
            run.retry(at, partial(batch_nodes.reboot_nodes, client, pool_id))
    run.emit(StepFinished(address=at, step=step[change.action], outcome="ok"))


def job(run: BatchRun, change: Change) -> None:
    client = run.clients["batch"]
    job_id = run.desired.spec.job.id
    if change.action is Action.NOOP:
        return
    step = "replace" if change.action is Action.REPLACE else "create"
    at = str(change.address)
    run.emit(StepStarted(address=at, step=step))
    if change.action is Action.REPLACE:
        run.retry(at, lambda: bb.delete_job(client, job_id))
    if change.waits_for_delete:
        run.retry(at, lambda: bb.wait_gone(client, "job", job_id, run.deadline))
    run.retry(at, lambda: bb.create_job(client, run.desired, run.workspace))
    run.emit(StepFinished(address=at, step=step, outcome="ok"))


def tasks(run: BatchRun, changes: list[Change], signer: SasSigner) -> None:
    """Add the missing tasks, and again those whose definition or inputs changed since
    they were added: chunks of 100, several requests in flight at once."""
    task_changes = by_kind(changes, "task")
    run.count("tasks_present", sum(1 for c in task_changes if c.action is Action.NOOP))
    rerun = {c.address.leaf for c in task_changes if c.action is Action.REPLACE}
    wanted = rerun | {c.address.leaf for c in task_changes if c.action is Action.CREATE}
    if not wanted:
        return
    spec = run.desired.spec
    step = address(run.name, "job", spec.job.id)
    if rerun:
        remove_stale(run, step, sorted(rerun))
    clear_outputs(run, step, wanted)
    run.emit(StepStarted(address=step, step="add tasks"))
    out_url = signer.write_container(run.desired.containers["output"])
    options = [
        bt.task_options(t, spec.tasks, signer, out_url) for t in run.desired.tasks if t.id in wanted
    ]
    total = add_in_chunks(run, step, options)
    failed = total.failed
    if failed:
        first = "; ".join(f"{k}: {v}" for k, v in list(failed.items())[:3])
        raise PermanentError(f"{len(failed)} task(s) could not be added: {first}")
    run.emit(StepFinished(address=step, step="add tasks", outcome="ok"))


def remove_stale(run: BatchRun, step: str, task_ids: list[str]) -> None:
    """Delete tasks that were added with another definition; a running one is stopped
    first, and its id is free only once it is gone."""
    client = run.clients["batch"]
    job_id = run.desired.spec.job.id
    run.emit(StepStarted(address=step, step="remove stale tasks"))

    def one(task_id: str) -> None:
        run.retry(step, partial(bt.delete_task, client, job_id, task_id))
        delay = 0.1
        while run.retry(step, partial(bt.task_exists, client, job_id, task_id)):
            run.sleep(delay)
            delay = min(delay * 2, 2.0)
        run.count("tasks_rerun")

    with ThreadPoolExecutor(CHUNK_WORKERS) as pool:
        list(pool.map(one, task_ids))
    run.emit(
        StepFinished(
            address=step,
            step="remove stale tasks",
            outcome="ok",
            detail={"removed": len(task_ids)},
        )
    )


def clear_outputs(run: BatchRun, step: str, task_ids: set[str]) -> None:
    """Delete what earlier runs of these task ids left in the output container (one
    paged list), so that a task which does not write an output cannot have an old one
    collected as its own."""
    service = run.clients["blob"]
    container = run.desired.containers["output"]
    names = run.retry(step, partial(blob.list_names, service, container))
    stale = [n for n in names if n.partition("/")[0] in task_ids]
    if not stale:
        return

    def one(name: str) -> None:
        run.retry(step, partial(blob.delete_blob, service, container, name))

    with ThreadPoolExecutor(UPLOAD_WORKERS) as pool:
        list(pool.map(one, stale))


def add_in_chunks(run: BatchRun, step: str, options: list[Any]) -> bt.ChunkResult:
    """Add tasks in chunks of 100 with several requests in flight; counts tasks added
    and already present."""
    chunks = [options[i : i + bt.CHUNK_SIZE] for i in range(0, len(options), bt.CHUNK_SIZE)]
    total = bt.ChunkResult()
    with ThreadPoolExecutor(CHUNK_WORKERS) as ex:
        for result in ex.map(lambda chunk: add_with_retries(run, step, chunk), chunks):
            total.merge(result)
            run.count("tasks_added", len(result.added))
            run.count("tasks_present", len(result.existing))
            run.emit(
                StepProgress(
                    address=step,
                    message=f"added {run.counts['tasks_added']} of {len(options)} tasks",
                    counts={"added": run.counts["tasks_added"], "total": len(options)},
                )
            )
    return total


def add_with_retries(run: BatchRun, step: str, chunk: list[Any]) -> bt.ChunkResult:
    """One chunk; tasks the service failed to add with a server error go again."""
    client = run.clients["batch"]
    job_id = run.desired.spec.job.id
    total = bt.ChunkResult()
    pending = chunk
    for _ in range(5):
        result = run.retry(step, partial(bt.add_chunk, client, job_id, pending))
        retry = set(result.retry)
        result.retry = []
        total.merge(result)
        pending = [t for t in pending if t.id in retry]
        if not pending:
            return total
        run.sleep(0.5)
    total.failed.update({t.id: "ServerError: not added after 5 attempts" for t in pending})
    return total
