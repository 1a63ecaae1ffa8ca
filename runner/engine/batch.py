"""Running a ``BatchJob`` on the engine's executor: its steps (containers, uploads, pool,
job, tasks, wait, collect, teardown) in dependency order, with the engine's clock,
deadline and cancellation (DESIGN.md, Batch workflow); plus its ``destroy`` and
``status``.

A re-apply resumes: the planner reuses the pool and job and lists only missing tasks,
so after an interrupted apply (even kill -9) nothing completed runs twice and nothing
unchanged is uploaded again.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from runner.backends.batch import read_batch_state
from runner.backends.batch_account import batch_account, default_batch_account
from runner.backends.blob_store import blob_store, default_blob_store
from runner.engine.batch_context import COUNT_KEYS, TEARDOWN_BUDGET, BatchContext, guarded
from runner.engine.batch_graph import found_done, job_steps
from runner.engine.batch_teardown import destroy_workspace, teardown
from runner.engine.events import Emit, RunSummary
from runner.engine.executor import Step, StepOutcome, fold, run_steps
from runner.engine.result import RunResult, StatusRow
from runner.engine.retry import Clock
from runner.plan.action import Action
from runner.plan.batch import step_address as address
from runner.plan.batch_desired import DesiredBatch
from runner.plan.model import Change
from runner.plan.ownership import Ownership
from runner.plan.provenance import stamp_detail
from runner.spec.models import BatchJob

if TYPE_CHECKING:
    from runner.backends.target import Target
    from runner.spec.loader import LoadedSpec

__all__ = ["batch_status", "destroy_batch", "destroy_workspace", "run_batch_job"]


def _batch_spec(loaded: LoadedSpec) -> BatchJob:
    if not isinstance(loaded.spec, BatchJob):
        raise TypeError(f"{loaded.path}: not a BatchJob")
    return loaded.spec


def _containers(spec: BatchJob) -> dict[str, str]:
    return {
        "application": spec.container_name("application"),
        "input": spec.container_name("input"),
        "output": spec.container_name("output"),
    }


def _context(
    desired: DesiredBatch, target: Target, emit: Emit, workspace: str, clock: Clock, budget: float
) -> BatchContext:
    spec = desired.spec
    return BatchContext(
        desired=desired,
        workspace=workspace,
        emit=emit,
        clock=clock,
        started=clock.now(),
        deadline=clock.now() + budget,
        batch=batch_account(spec, target),
        blobs=blob_store(target, spec.storage.account),
    )


def run_batch_job(
    loaded: LoadedSpec,
    changes: list[Change],
    target: Target,
    emit: Emit,
    *,
    desired: DesiredBatch,
    workspace: str,
    cancel: threading.Event,
) -> RunResult:
    """``desired`` is what the plan was made from (its inputs read once, when planning)."""
    spec = _batch_spec(loaded)
    if any(c.action is Action.CONFLICT for c in changes):
        # Nothing is done; ``api.apply`` names each conflict among the run's errors.
        return RunResult(ok=False, counts=dict.fromkeys(COUNT_KEYS, 0))
    clock = Clock(cancel=cancel)
    ctx = _context(desired, target, emit, workspace, clock, spec.timeout.total_seconds())
    outcomes = run_steps(job_steps(ctx, changes), emit=emit, cancel=cancel)
    result = fold(outcomes, skips_are_errors=False)
    for key, n in found_done(changes).items():
        result.count(key, n)
    result.counts = {k: result.counts.get(k, 0) for k in COUNT_KEYS}
    emit(RunSummary(address=f"BatchJob/{spec.name}", counts=result.counts, ok=result.ok))
    return result


def _bare(spec: BatchJob) -> DesiredBatch:
    """The parts of a spec teardown needs, without reading any input file."""
    return DesiredBatch(spec=spec, containers=_containers(spec), app_files=(), tasks=())


def destroy_batch(
    loaded: LoadedSpec | None, target: Target, emit: Emit, *, workspace: str
) -> RunResult:
    """Delete the job, pool and containers a spec owns, whatever its teardown policy;
    anything not made by this spec in this workspace is left and named. Without a spec,
    everything this workspace made in the default accounts goes."""
    if loaded is None:
        return destroy_workspace(target, emit, workspace)
    if not isinstance(loaded.spec, BatchJob):
        return RunResult(ok=True, counts={"deleted": 0})
    spec = loaded.spec
    observed = read_batch_state(spec, target, workspace)
    mine = (workspace, spec.name)
    foreign = "not made by this spec in this workspace"
    keep = {}
    if observed.pool is not None and not observed.pool.owner.owned_by(*mine):
        keep[address(spec.name, "pool", spec.pool.id)] = foreign
    if observed.job is not None and not observed.job.owner.owned_by(*mine):
        keep[address(spec.name, "job", spec.job.id)] = foreign
    policy = spec.teardown.model_copy(
        update={"job": "always", "pool": "always", "containers": "always"}
    )
    desired = _bare(spec.model_copy(update={"teardown": policy}))
    ctx = _context(desired, target, emit, workspace, Clock(), TEARDOWN_BUDGET)
    owned = {c for c, o in observed.containers.items() if o.owned_by(*mine)}
    at = address(spec.name, "teardown")

    def tear_down(_deps: Mapping[str, StepOutcome]) -> StepOutcome:
        return guarded(lambda: teardown(ctx, True, owned, keep))

    outcomes = run_steps([Step(at, at, "teardown", tear_down)], emit=emit, cancel=threading.Event())
    result = fold(outcomes)
    result.counts = {"deleted": result.counts.get("deleted", 0)}
    emit(RunSummary(address=f"BatchJob/{spec.name}", counts=result.counts, ok=result.ok))
    return result


def batch_status(loaded: LoadedSpec, target: Target, *, workspace: str) -> list[StatusRow]:
    """Pool, job (with task counts) and containers (with blob counts) of one spec."""
    spec = _batch_spec(loaded)
    observed = read_batch_state(spec, target, workspace)
    name = spec.name
    now = datetime.now(UTC)
    rows: list[StatusRow] = []
    pool = observed.pool
    rows.append(
        StatusRow(
            address=address(name, "pool", spec.pool.id),
            kind="BatchPool",
            state="absent" if pool is None else pool.state,
            detail={}
            if pool is None
            else {
                "allocation": pool.allocation_state,
                "nodes": pool.nodes,
                "vmSize": pool.vm_size,
                "owner": _owner_text(pool.owner, name, workspace),
                **stamp_detail(pool.owner, now),
            },
        )
    )
    job = observed.job
    counts: dict[str, int] = {}
    if job is not None:
        counts = batch_account(spec, target).task_counts(spec.job.id)
    rows.append(
        StatusRow(
            address=address(name, "job", spec.job.id),
            kind="BatchJob",
            state="absent" if job is None else job.state,
            detail={}
            if job is None
            else {
                "pool": job.pool_id,
                **counts,
                "owner": _owner_text(job.owner, name, workspace),
                **stamp_detail(job.owner, now),
            },
        )
    )
    store = blob_store(target, spec.storage.account)
    for container in dict.fromkeys(_containers(spec).values()):
        owner = observed.containers.get(container)
        detail: dict[str, object] = {}
        if owner is not None:
            detail = {
                "blobs": len(store.list_names(container)),
                "owner": _owner_text(owner, name, workspace),
                **stamp_detail(owner, now),
            }
        rows.append(
            StatusRow(
                address=address(name, "container", container),
                kind="BlobContainer",
                state="absent" if owner is None else "exists",
                detail=detail,
            )
        )
    return rows


def _owner_text(owner: Ownership, spec: str, workspace: str) -> str:
    if owner.owned_by(workspace, spec):
        return "this spec"
    if owner.managed:
        return f"runner ({owner.spec} in {owner.workspace})"
    return "not runner"


def workspace_status(target: Target, *, workspace: str) -> list[StatusRow]:
    """Pools, jobs and blob containers this workspace made in the default accounts: what
    ``runner status`` and ``runner destroy`` show when given no spec."""
    account, store = default_batch_account(target), default_blob_store(target)
    rows: list[StatusRow] = []
    now = datetime.now(UTC)
    if account is not None:
        pools, jobs = account.list_managed()
        for piece, kind, items in (("pool", "BatchPool", pools), ("job", "BatchJob", jobs)):
            rows += [
                StatusRow(address(o.spec or "?", piece, i), kind, st, stamp_detail(o, now))
                for i, o, st in items
                if o.workspace == workspace
            ]
    if store is not None:
        rows += [
            StatusRow(
                address(o.spec or "?", "container", n),
                "BlobContainer",
                "exists",
                stamp_detail(o, now),
            )
            for n, o in store.list_managed_containers()
            if o.workspace == workspace
        ]
    return rows
