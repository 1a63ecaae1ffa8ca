"""The Batch planner: compare a ``BatchJob``'s desired containers, blobs, pool, job and tasks
with what the Batch and Blob services hold, and say what apply must do to each.

Rules (DESIGN.md, Batch workflow):
- blobs are uploaded only when absent or when their Content-MD5 differs;
- the pool is replaced when a field Batch cannot change on a live pool differs (VM size,
  image, node agent SKU, task slots per node, network), updated in place for node counts
  and the start task, reused otherwise;
- the job is reused while active and bound to the desired pool;
- tasks have deterministic ids: only missing ones are added; one whose command, inputs or
  start task files differ from what it was added with runs again, others never re-run; a
  merge task's inputs are its dependencies' outputs, so it runs again when one of them does;
  a failed task of a kept job runs again only when asked (``--rerun-failed``), and then a
  task waiting on it (a merge it blocked) runs once it has succeeded;
- a job whose tasks depend on each other needs ``usesTaskDependencies``, which Batch sets
  only when the job is made;
- a task the job does not hold whose result the results record keeps (same identity,
  its outputs still in the output container, unchanged) is done: it does not run again
  (``--rerun`` runs it again); when every task is done, nothing is made at all;
- anything that exists but carries no runner ownership for this workspace and spec is a
  conflict and is never touched (a pool or job being deleted is only waited for).
"""

from __future__ import annotations

from typing import Any

from runner.plan import autoscale
from runner.plan.action import Action
from runner.plan.batch_desired import DesiredBatch, DesiredTask, LocalFile
from runner.plan.batch_observed import (
    ObservedBatch,
    ObservedBlob,
    ObservedJob,
    ObservedPool,
    ObservedTask,
)
from runner.plan.model import Address, Change
from runner.plan.ownership import Ownership
from runner.plan.results_record import RecordedTask, describe, done_tasks

__all__ = [
    "DesiredBatch",
    "ObservedBatch",
    "ObservedBlob",
    "ObservedJob",
    "ObservedPool",
    "ObservedTask",
    "Ownership",
    "diff_desired",
    "address",
]

# Fields Batch cannot change on an existing pool: a different value needs a new pool.
POOL_REPLACE_FIELDS = (
    "vmSize",
    "image",
    "nodeAgentSku",
    "taskSlotsPerNode",
    "network",
    "containerConfiguration",
)
# Fields an existing pool changes in place. An autoscaled pool's node counts are its
# formula's to set: both sides leave them out (None) and compare the formula instead.
POOL_UPDATE_FIELDS = ("nodes", "lowPriorityNodes", "autoScale", "startTask")
JOB_REUSABLE_STATES = ("active", "enabling")


def address(spec_name: str, piece: str | None = None, *names: str) -> Address:
    """A BatchJob spec, or one of its pieces: ``pool``, ``job``, ``container`` by name;
    ``task`` by job and task id, ``blob`` by container and blob name."""
    if len(names) == 2:
        return Address.batch(spec_name, piece, names[1], parent=names[0])
    return Address.batch(spec_name, piece, "/".join(names))


def diff_desired(
    desired: DesiredBatch,
    observed: ObservedBatch,
    *,
    workspace: str,
    rerun_failed: bool = False,
    rerun: bool = False,
) -> list[Change]:
    """``rerun_failed`` (``apply --rerun-failed``): a task of the kept job that completed
    and failed, on the definition and inputs it would run on now, runs again. ``rerun``
    (``--rerun NAME``): the results record is not looked at, so every task runs again."""
    name = desired.spec.name
    in_job = observed.tasks if observed.job is not None else {}
    # Only a record this workspace's spec wrote counts, in a container it made.
    output_owner = observed.containers.get(desired.containers["output"])
    ours = output_owner is not None and output_owner.owned_by(workspace, name)
    record = observed.record if ours and not rerun else None
    recorded = done_tasks(desired.tasks, record, observed.outputs)
    done = {k: v for k, v in recorded.items() if k not in in_job}
    if done and len(done) == len(desired.tasks):
        return _all_done(desired, observed, workspace, done)
    changes = [
        _container_change(name, c, observed, workspace)
        for c in dict.fromkeys(desired.containers.values())
    ]
    unneeded = _unneeded_inputs(desired, done)
    changes += [
        _not_needed_blob(name, f, unneeded) or _blob_change(name, f, observed, workspace)
        for f in desired.uploads
    ]
    pool_change = _sized(desired, _pool_change(desired, observed, workspace))
    changes.append(pool_change)
    job_change = _job_change(desired, observed, workspace, pool_change)
    changes.append(job_change)
    fresh_job = job_change.action in (Action.CREATE, Action.REPLACE)
    job_id = desired.spec.job.id
    for task in desired.tasks:
        addr = address(name, "task", job_id, task.id)
        deps: tuple[Address, ...] = (job_change.address,)
        if task.input is not None and not task.input.in_cloud:
            deps += (address(name, "blob", task.input.container, task.input.blob),)
        deps += tuple(address(name, "task", job_id, d) for d in task.depends_on if d not in done)
        seen = None if fresh_job else observed.tasks.get(task.id)
        if task.id in done or (fresh_job and task.id in recorded):
            changes.append(_recorded_change(addr, task, recorded[task.id], desired))
            continue
        change = _task_change(
            addr, task, seen, deps, owned=job_change.owned, rerun_failed=rerun_failed, rerun=rerun
        )
        if task.depends_on and change.action in (Action.CREATE, Action.REPLACE):
            change = change.model_copy(
                update={"reason": f"{change.reason}; {_waits_for(desired, task)}"}
            )
        elif change.action is Action.NOOP and seen is not None and seen.state == "active":
            change = _unblocked(change, task, changes)
        changes.append(change)
    return changes


def recorded_tasks(changes: list[Change]) -> set[str]:
    """The ids of the tasks the plan found done in the results record."""
    return {
        c.address.leaf
        for c in changes
        if c.action is Action.NOOP
        and c.address.part is not None
        and c.address.part.kind == "task"
        and c.before is not None
        and "recorded" in c.before
    }


def _recorded_change(
    addr: Address, task: DesiredTask, recorded: RecordedTask, desired: DesiredBatch
) -> Change:
    output = desired.containers["output"]
    return Change(
        address=addr,
        action=Action.NOOP,
        reason=f"done in an earlier run: unchanged since, its outputs are in {output} "
        f"(results record of {recorded.finished}; --rerun {desired.spec.name} runs it again)",
        before=describe(recorded),
    )


def _unneeded_inputs(desired: DesiredBatch, done: dict[str, RecordedTask]) -> set[tuple[str, str]]:
    """The input blobs only tasks that are done read: not uploaded again."""
    reads = [(t.id in done, t.input) for t in desired.tasks if t.input is not None]
    done_reads = {(f.container, f.blob) for is_done, f in reads if is_done}
    return done_reads - {(f.container, f.blob) for is_done, f in reads if not is_done}


def _not_needed_blob(spec: str, f: LocalFile, unneeded: set[tuple[str, str]]) -> Change | None:
    if (f.container, f.blob) not in unneeded:
        return None
    return Change(
        address=address(spec, "blob", f.container, f.blob),
        action=Action.NOOP,
        reason="not needed: the tasks that read it are done (results record)",
    )


def _all_done(
    desired: DesiredBatch,
    observed: ObservedBatch,
    workspace: str,
    done: dict[str, RecordedTask],
) -> list[Change]:
    """Every task's result is recorded: no container, upload, pool or job is needed. The
    output container holds the results, and collect fetches what the collect folder
    lacks."""
    name = desired.spec.name
    why = "not needed: every task is done (results record)"
    changes = [
        _container_change(name, c, observed, workspace)
        if c == desired.containers["output"] or c in observed.containers
        else Change(address=address(name, "container", c), action=Action.NOOP, reason=why)
        for c in dict.fromkeys(desired.containers.values())
    ]
    changes += [
        Change(address=address(name, "blob", f.container, f.blob), action=Action.NOOP, reason=why)
        for f in desired.uploads
    ]
    # One left by a run stopped in its teardown is ``owned``: teardown removes it now.
    found = {"pool": observed.pool, "job": observed.job}
    for piece, piece_id in (("pool", desired.spec.pool.id), ("job", desired.spec.job.id)):
        seen = found[piece]
        ours = seen is not None and seen.owner.owned_by(workspace, name)
        addr = address(name, piece, piece_id)
        changes.append(Change(address=addr, action=Action.NOOP, reason=why, owned=ours))
    job_id = desired.spec.job.id
    changes += [
        _recorded_change(address(name, "task", job_id, t.id), t, done[t.id], desired)
        for t in desired.tasks
    ]
    return changes


def _unblocked(change: Change, task: DesiredTask, planned: list[Change]) -> Change:
    """A waiting task (a merge that a failed task blocks) runs once the tasks it waits
    for and that run again have succeeded: the plan says so."""
    again = {c.address.leaf for c in planned if c.action is Action.REPLACE}
    rerun = [d for d in task.depends_on if d in again]
    if not rerun:
        return change
    names = ", ".join(rerun[:3]) + (f" and {len(rerun) - 3} more" if len(rerun) > 3 else "")
    verb = "has" if len(rerun) == 1 else "have"
    return change.model_copy(
        update={"reason": f"{change.reason}; runs once {names} (run again) {verb} succeeded"}
    )


def _waits_for(desired: DesiredBatch, task: DesiredTask) -> str:
    """What a dependent task waits for, and what a failure of one of them does to it
    (Batch's ``dependencyAction`` of the task that fails)."""
    by_id = {t.id: t for t in desired.tasks}
    actions = {by_id[d].dependency_action for d in task.depends_on if d in by_id}
    n = len(task.depends_on)
    what = (
        f"runs once its {n} dependencies have succeeded"
        if n > 1
        else (f"runs once {task.depends_on[0]} has succeeded")
    )
    if actions == {"satisfy"}:
        return f"{what} or failed (dependencyAction: satisfy)"
    if actions == {"block"}:
        return f"{what}; one that fails blocks it (dependencyAction: block)"
    return f"{what}; a failure blocks it or not as each dependency's dependencyAction says"


def _task_change(
    addr: Address,
    task: DesiredTask,
    seen: ObservedTask | None,
    deps: tuple[Address, ...],
    *,
    owned: bool,
    rerun_failed: bool = False,
    rerun: bool = False,
) -> Change:
    if seen is None:
        return Change(
            address=addr,
            action=Action.CREATE,
            reason="not in the job yet",
            after=task.canonical(),
            depends_on=deps,
            owned=owned,
        )
    before = {"id": seen.id, "state": seen.state, "exitCode": seen.exit_code}
    failed = seen.state == "completed" and not seen.succeeded
    again = (failed and rerun_failed) or (rerun and seen.state == "completed")
    if seen.identity == task.identity and again:
        # Batch takes no second task of the same id: the failed one is deleted first.
        return Change(
            address=addr,
            action=Action.REPLACE,
            reason=f"rerun: it failed ({seen.why})" if failed else "rerun: --rerun asks so",
            before=before,
            after=task.canonical(),
            depends_on=deps,
            owned=owned,
        )
    if seen.identity == task.identity:
        return Change(
            address=addr,
            action=Action.NOOP,
            reason=_task_state(seen),
            before=before,
            depends_on=deps,
            owned=owned,
        )
    # A task's result belongs to what it ran on: one added with another command or other
    # inputs is deleted and added again, never reported as this definition's result.
    command_changed = seen.command_line is not None and seen.command_line != task.command_line
    if command_changed:
        why, forced = "its command changed", ("commandLine",)
    elif seen.identity is None:
        why, forced = "it carries no record of what it ran on", ("resourceFiles",)
    else:
        why, forced = "its inputs or start task files changed", ("resourceFiles",)
    done = "ran" if seen.state == "completed" else f"was added ({seen.state})"
    return Change(
        address=addr,
        action=Action.REPLACE,
        reason=f"{why} since it {done}: runs again",
        before={**before, "commandLine": seen.command_line},
        after=task.canonical(),
        replace_paths=forced,
        depends_on=deps,
        owned=owned,
    )


def _task_state(task: ObservedTask) -> str:
    if task.state != "completed":
        return f"already in the job ({task.state})"
    if task.succeeded:
        return "completed (exit code 0); unchanged since it ran"
    why = task.why
    return (
        f"completed and failed ({why}); unchanged since it ran, not re-run "
        "(`runner apply --rerun-failed` runs it again)"
    )


def _container_change(spec: str, container: str, observed: ObservedBatch, workspace: str) -> Change:
    """Foreign containers are used as they are and never deleted by teardown: ``owned``
    tells teardown which ones the runner made."""
    addr = address(spec, "container", container)
    owner = observed.containers.get(container)
    if owner is not None:
        ours = owner.owned_by(workspace, spec)
        return Change(
            address=addr,
            action=Action.NOOP,
            reason="exists" if ours else f"exists ({owner.provenance()}; used, never deleted)",
            before={"name": container, "ours": ours},
            owned=ours,
        )
    return Change(
        address=addr, action=Action.CREATE, reason="missing", after={"name": container}, owned=True
    )


def _blob_change(spec: str, f: LocalFile, observed: ObservedBatch, workspace: str) -> Change:
    addr = address(spec, "blob", f.container, f.blob)
    after = {"source": str(f.path), "contentMd5": f.md5, "size": f.size}
    deps = (address(spec, "container", f.container),)
    seen = observed.blobs.get((f.container, f.blob))
    if seen is None:
        return Change(
            address=addr,
            action=Action.CREATE,
            reason="not uploaded",
            after=after,
            depends_on=deps,
            owned=True,
        )
    before = {"contentMd5": seen.md5}
    if seen.md5 == f.md5:
        return Change(
            address=addr,
            action=Action.NOOP,
            reason="Content-MD5 matches",
            before=before,
            after=after,
            depends_on=deps,
            owned=seen.owner.owned_by(workspace, spec),
        )
    if not seen.owner.owned_by(workspace, spec):
        return Change(
            address=addr,
            action=Action.CONFLICT,
            reason=f"a different blob of that name exists, {seen.owner.provenance()}",
            before=before,
            after=after,
        )
    return Change(
        address=addr,
        action=Action.UPDATE,
        reason="content changed (Content-MD5 differs)",
        before=before,
        after=after,
        depends_on=deps,
        owned=True,
    )


def _pool_change(desired: DesiredBatch, observed: ObservedBatch, workspace: str) -> Change:
    spec = desired.spec.name
    addr = address(spec, "pool", desired.spec.pool.id)
    after = dict(desired.pool)
    deps = tuple(address(spec, "blob", f.container, f.blob) for f in desired.app_files)
    pool = observed.pool
    if pool is None:
        return Change(
            address=addr,
            action=Action.CREATE,
            reason="missing",
            after=after,
            depends_on=deps,
            owned=True,
        )
    before = pool.canonical()
    blocked = _deleting_or_foreign(
        "pool",
        pool.state,
        pool.owner.owned_by(workspace, spec),
        pool.owner.provenance(),
        Change(
            address=addr,
            action=Action.NOOP,
            before=before,
            after=after,
            depends_on=deps,
            owned=True,
        ),
    )
    if blocked:
        return blocked
    forced = tuple(f"pool.{k}" for k in POOL_REPLACE_FIELDS if before.get(k) != after.get(k))
    if forced:
        return Change(
            address=addr,
            action=Action.REPLACE,
            waits_for_delete=True,
            reason=f"{', '.join(forced)} cannot change on an existing pool",
            before=before,
            after=after,
            replace_paths=forced,
            depends_on=deps,
            owned=True,
        )
    updated = [k for k in POOL_UPDATE_FIELDS if before.get(k) != after.get(k)]
    restart = "; its nodes restart to run the new start task"
    if updated:
        return Change(
            address=addr,
            action=Action.UPDATE,
            reason=_updated_words(updated, before, after)
            + (restart if "startTask" in updated else ""),
            before=before,
            after=after,
            paths=tuple(f"pool.{k}" for k in updated),
            depends_on=deps,
            owned=True,
        )
    if pool.owner.hash and pool.owner.hash != desired.pool_hash:
        # Batch runs a start task again only on nodes that join or restart.
        return Change(
            address=addr,
            action=Action.UPDATE,
            reason="start task files changed: updated in place" + restart,
            before=before,
            after=after,
            paths=("pool.startTask.files",),
            depends_on=deps,
            owned=True,
        )
    return Change(
        address=addr, action=Action.NOOP, reason="reused", before=before, after=after, owned=True
    )


def _updated_words(updated: list[str], before: dict[str, Any], after: dict[str, Any]) -> str:
    """What an in-place pool update changes; a switch to or from autoscale says so, its
    node counts being the formula's (or no longer)."""
    if "autoScale" not in updated:
        return f"{', '.join('pool.' + k for k in updated)} updated in place"
    rest = [f"pool.{k}" for k in updated if k not in ("nodes", "lowPriorityNodes", "autoScale")]
    also = f"; {', '.join(rest)} updated in place" if rest else ""
    if before.get("autoScale") is None:
        return f"autoscale enabled in place: pool.autoScale sizes the pool from now on{also}"
    if after.get("autoScale") is None:
        return f"autoscale disabled in place, then resized to pool.nodes{also}"
    return f"pool.autoScale updated in place (its formula or interval){also}"


def _sized(desired: DesiredBatch, change: Change) -> Change:
    """The pool's change, saying how an autoscaled pool is sized."""
    how = autoscale.describe(desired.spec.pool)
    if how is None or change.action is Action.CONFLICT:
        return change
    return change.model_copy(update={"reason": f"{change.reason}; {how}"})


def _deleting_or_foreign(
    what: str, state: str | None, ours: bool, owner: str, base: Change
) -> Change | None:
    """A pool or job still being deleted is made again once gone, whoever owned it; one
    that exists and is not this workspace's is a conflict, never touched."""
    if state == "deleting":
        return base.model_copy(
            update={
                "action": Action.CREATE,
                "reason": "being deleted; created again once gone",
                "waits_for_delete": True,
            }
        )
    if not ours:
        return base.model_copy(
            update={
                "action": Action.CONFLICT,
                "reason": f"{what} exists but was {owner}",
                "depends_on": (),
                "owned": False,
            }
        )
    return None


def _job_change(
    desired: DesiredBatch, observed: ObservedBatch, workspace: str, pool: Change
) -> Change:
    spec = desired.spec.name
    addr = address(spec, "job", desired.spec.job.id)
    after = {**desired.job, **desired.job_inputs}
    deps = (pool.address,)
    job = observed.job
    if job is None:
        return Change(
            address=addr,
            action=Action.CREATE,
            reason="missing",
            after=after,
            depends_on=deps,
            owned=True,
        )
    before = {"id": job.id, "poolId": job.pool_id, "state": job.state}
    blocked = _deleting_or_foreign(
        "job",
        job.state,
        job.owner.owned_by(workspace, spec),
        job.owner.provenance(),
        Change(
            address=addr,
            action=Action.NOOP,
            before=before,
            after=after,
            depends_on=deps,
            owned=True,
        ),
    )
    if blocked:
        return blocked
    if desired.uses_dependencies and not job.uses_task_dependencies:
        return Change(
            address=addr,
            action=Action.REPLACE,
            waits_for_delete=True,
            reason="its tasks depend on each other, and the job was made without "
            "usesTaskDependencies, which Batch cannot turn on later",
            before=before,
            after=after,
            replace_paths=("job.usesTaskDependencies",),
            depends_on=deps,
            owned=True,
        )
    if job.environment != desired.job_environment:
        return Change(
            address=addr,
            action=Action.REPLACE,
            waits_for_delete=True,
            reason="job.environment changed, and Batch cannot change a job's common "
            "environment: made again, its tasks run again",
            before={**before, "commonEnvironmentSettings": dict(job.environment)},
            after=after,
            replace_paths=("job.commonEnvironmentSettings",),
            depends_on=deps,
            owned=True,
        )
    if job.pool_id != desired.spec.pool.id:
        return Change(
            address=addr,
            action=Action.REPLACE,
            waits_for_delete=True,
            reason="bound to another pool",
            before=before,
            after=after,
            replace_paths=("job.poolId",),
            depends_on=deps,
            owned=True,
        )
    if job.state not in JOB_REUSABLE_STATES:
        return Change(
            address=addr,
            action=Action.REPLACE,
            waits_for_delete=True,
            reason=f"job is {job.state} and takes no new tasks",
            before=before,
            after=after,
            replace_paths=("job.state",),
            depends_on=deps,
            owned=True,
        )
    return Change(
        address=addr, action=Action.NOOP, reason="reused", before=before, after=after, owned=True
    )


def step_address(spec_name: str, piece: str | None = None, *names: str) -> str:
    """The text of ``address``: what the events of a Batch step (uploads, poll, collect,
    teardown) name."""
    return str(address(spec_name, piece, *names))
