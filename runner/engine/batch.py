"""Running a ``BatchJob``: apply = create, poll, collect, teardown (DESIGN.md, Batch
workflow), plus its ``destroy`` and ``status``.

A re-apply resumes: the planner reuses the pool and job and lists only missing tasks,
so after an interrupted apply (even kill -9) nothing completed runs twice and nothing
unchanged is uploaded again.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import TYPE_CHECKING

from runner.backends import batch as bb
from runner.backends import blob
from runner.backends.sas import sas_expiry, signer_for
from runner.engine import batch_monitor as monitor
from runner.engine import batch_steps as steps
from runner.engine.batch_context import COUNT_KEYS, BatchRun, Stop, TimedOut
from runner.engine.batch_teardown import default_clients, destroy_workspace, teardown
from runner.engine.events import Emit, RunSummary
from runner.engine.result import RunResult, StatusRow
from runner.errors import RunnerError
from runner.plan.action import Action
from runner.plan.batch import step_address as address
from runner.plan.batch_desired import DesiredBatch
from runner.plan.model import Change
from runner.plan.ownership import Ownership
from runner.spec.models import BatchJob

if TYPE_CHECKING:
    from runner.backends.target import Target
    from runner.spec.loader import LoadedSpec

TEARDOWN_BUDGET = 300.0  # seconds teardown may take after a timeout or Ctrl-C


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


def _change(changes: list[Change], piece: str) -> Change:
    return next(iter(steps.by_kind(changes, piece)))


def _owned_containers(changes: list[Change]) -> set[str]:
    return {c.address.leaf for c in steps.by_kind(changes, "container") if c.owned}


def _clients(spec: BatchJob, target: Target) -> dict[str, object]:
    return {
        "batch": bb.batch_client(spec, target),
        "blob": target.blob_service(spec.storage.account),
    }


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
    name = spec.name
    if any(c.action is Action.CONFLICT for c in changes):
        # Nothing is done; ``api.apply`` names each conflict among the run's errors.
        return RunResult(ok=False, counts=dict.fromkeys(COUNT_KEYS, 0))
    run = BatchRun(
        desired=desired,
        target=target,
        emit=emit,
        workspace=workspace,
        cancel=cancel,
        deadline=time.monotonic() + spec.timeout.total_seconds(),
    )
    errors: list[str] = []
    outputs: list[str] = []
    ok = False
    stop_job: str | None = None
    try:
        run.clients.update(_clients(desired.spec, target))
        steps.storage(run, changes)
        run.check()
        key = target.storage_account_key(desired.spec.storage.account)
        signer = signer_for(run.clients["blob"], key, sas_expiry(desired.spec.timeout))
        steps.pool(run, _change(changes, "pool"), signer)
        steps.job(run, _change(changes, "job"))
        steps.tasks(run, changes, signer)
        results = monitor.wait_until_complete(run)
        monitor.collect(run, results, outputs, errors)
        ok = not errors
    except Stop:
        errors.append("cancelled")
    except TimedOut as exc:
        errors.append(str(exc))
        # A timeout bounds the job's work: a job left in place is terminated. Ctrl-C
        # leaves it running instead, so that a re-apply resumes it.
        stop_job = f"runner: {exc}"
    except RunnerError as exc:
        errors.append(str(exc))
    finally:
        # Teardown runs whatever happened, with its own budget and no cancellation.
        closing = dataclasses.replace(
            run, cancel=threading.Event(), deadline=time.monotonic() + TEARDOWN_BUDGET
        )
        removed, left = teardown(closing, ok, _owned_containers(changes), errors, stop_job=stop_job)
    ok = ok and not errors  # a teardown that failed fails the apply too
    counts = {k: run.counts.get(k, 0) for k in COUNT_KEYS}
    emit(RunSummary(address=f"BatchJob/{name}", counts=counts, ok=ok))
    return RunResult(
        ok=ok, counts=counts, removed=removed, left=left, outputs=outputs, errors=errors
    )


def _bare(spec: BatchJob) -> DesiredBatch:
    """The parts of a spec teardown needs, without reading any input file."""
    return DesiredBatch(
        spec=spec,
        containers=_containers(spec),
        app_files=(),
        tasks=(),
    )


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
    observed = bb.read_batch_state(spec, target, workspace)
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
    run = BatchRun(
        desired=_bare(spec.model_copy(update={"teardown": policy})),
        target=target,
        emit=emit,
        workspace=workspace,
        cancel=threading.Event(),
        deadline=time.monotonic() + TEARDOWN_BUDGET,
    )
    run.clients.update(_clients(spec, target))
    owned = {c for c, o in observed.containers.items() if o.owned_by(*mine)}
    errors: list[str] = []
    removed, left = teardown(run, True, owned, errors, keep)
    counts = {"deleted": run.counts.get("deleted", 0)}
    emit(RunSummary(address=f"BatchJob/{spec.name}", counts=counts, ok=not errors))
    return RunResult(ok=not errors, counts=counts, removed=removed, left=left, errors=errors)


def batch_status(loaded: LoadedSpec, target: Target, *, workspace: str) -> list[StatusRow]:
    """Pool, job (with task counts) and containers (with blob counts) of one spec."""
    spec = _batch_spec(loaded)
    observed = bb.read_batch_state(spec, target, workspace)
    name = spec.name
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
            },
        )
    )
    job = observed.job
    counts: dict[str, int] = {}
    if job is not None:
        counts = bb.task_counts(bb.batch_client(spec, target), spec.job.id)
    rows.append(
        StatusRow(
            address=address(name, "job", spec.job.id),
            kind="BatchJob",
            state="absent" if job is None else job.state,
            detail={}
            if job is None
            else {"pool": job.pool_id, **counts, "owner": _owner_text(job.owner, name, workspace)},
        )
    )
    service = target.blob_service(spec.storage.account)
    for container in dict.fromkeys(_containers(spec).values()):
        owner = observed.containers.get(container)
        detail: dict[str, object] = {}
        if owner is not None:
            detail = {
                "blobs": len(blob.list_names(service, container)),
                "owner": _owner_text(owner, name, workspace),
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
    client, service = default_clients(target)
    rows: list[StatusRow] = []
    if client is not None:
        pools, jobs = bb.list_owned(client, workspace)
        rows += [StatusRow(address(s, "pool", i), "BatchPool", st) for i, s, st in pools]
        rows += [StatusRow(address(s, "job", i), "BatchJob", st) for i, s, st in jobs]
    if service is not None:
        rows += [
            StatusRow(address(s, "container", n), "BlobContainer", "exists")
            for n, s in blob.list_owned_containers(service, workspace)
        ]
    return rows
