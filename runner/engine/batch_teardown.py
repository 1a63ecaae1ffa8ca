"""Teardown of a Batch run per the spec's policy (job, pool, containers), the same on
success, failure, timeout and Ctrl-C; and ``destroy`` of everything a workspace made.

Only what the runner made is ever deleted: pools and jobs that reached this point carry
this spec's ownership (conflicts stop a run before anything happens), and containers
are deleted only when created by the runner. What is removed and what is left travel in
the step's outcome, as a container group's do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from runner.backends.batch_account import default_batch_account
from runner.backends.blob_store import default_blob_store
from runner.engine.batch_context import BatchContext
from runner.engine.events import Emit, TeardownReport
from runner.engine.executor import Step, StepOutcome, fold, run_steps
from runner.engine.result import RunResult
from runner.engine.retry import call_with_retry
from runner.errors import RunnerError
from runner.plan.batch import step_address as address

if TYPE_CHECKING:
    from runner.backends.target import Target


def due(when: str, ok: bool) -> bool:
    return when == "always" or (when == "onSuccess" and ok)


def succeeded(outcomes: Mapping[str, StepOutcome]) -> bool:
    return all(o.ok and not o.errors for o in outcomes.values())


def stop_reason(outcomes: Mapping[str, StepOutcome]) -> str | None:
    """Why a job the policy leaves in place is to be terminated: the job's timeout came,
    so none of its tasks may run on past the run's end. Ctrl-C leaves it running
    instead, so that a re-apply resumes it."""
    return next((f"runner: {o.message}" for o in outcomes.values() if o.timed_out), None)


def teardown(
    ctx: BatchContext,
    ok: bool,
    owned_containers: set[str],
    keep: Mapping[str, str] | None = None,
    stop_job: str | None = None,
) -> StepOutcome:
    """What was removed and what was left, also reported as a ``TeardownReport``.
    ``keep`` names addresses never to delete, with the reason reported; ``stop_job`` (a
    reason) asks for a job the policy leaves in place to be terminated."""
    keep = keep or {}
    spec = ctx.spec
    policy = spec.teardown
    out = StepOutcome(counts={"deleted": 0})

    def remove(addr: str, delete: Callable[[], Any]) -> None:
        try:
            existed = ctx.retry(addr, delete)
        except RunnerError as exc:
            out.left.append(f"{addr} (delete failed: {exc})")
            out.errors.append(f"teardown of {addr} failed: {exc}")
            return
        if existed is not False:
            out.removed.append(addr)
            out.counts["deleted"] += 1

    job_addr = ctx.address("job", spec.job.id)
    if job_addr in keep:
        out.left.append(f"{job_addr} ({keep[job_addr]})")
    elif due(policy.job, ok):
        remove(job_addr, partial(ctx.batch.delete_job, spec.job.id))
    else:
        out.left.append(_left_job(ctx, job_addr, stop_job, out.errors))

    pool_addr = ctx.address("pool", spec.pool.id)
    if pool_addr in keep:
        out.left.append(f"{pool_addr} ({keep[pool_addr]})")
    elif due(policy.pool, ok):
        remove(pool_addr, partial(ctx.batch.delete_pool, spec.pool.id))
    else:
        out.left.append(f"{pool_addr} (teardown.pool: {policy.pool})")

    for name in dict.fromkeys(ctx.desired.containers.values()):
        addr = ctx.address("container", name)
        if addr in keep:
            out.left.append(f"{addr} ({keep[addr]})")
        elif name not in owned_containers:
            out.left.append(f"{addr} (not made by runner)")
        elif due(policy.containers, ok):
            remove(addr, partial(ctx.blobs.delete_container, name))
        else:
            out.left.append(f"{addr} (teardown.containers: {policy.containers})")

    at = ctx.address("teardown")
    ctx.emit(TeardownReport(address=at, removed=tuple(out.removed), left=tuple(out.left)))
    return out


def _left_job(ctx: BatchContext, addr: str, stop_job: str | None, errors: list[str]) -> str:
    policy = ctx.spec.teardown.job
    if stop_job is None:
        return f"{addr} (teardown.job: {policy})"
    try:
        ctx.retry(addr, lambda: ctx.batch.terminate_job(ctx.spec.job.id, stop_job))
    except RunnerError as exc:
        errors.append(f"terminate of {addr} failed: {exc}")
        return f"{addr} (teardown.job: {policy}; terminate failed)"
    return f"{addr} (teardown.job: {policy}; terminated: {stop_job})"


def destroy_workspace(target: Target, emit: Emit, workspace: str) -> RunResult:
    """Everything this workspace's runner made in the target's default Batch and Storage
    accounts (``AZURE_BATCH_ACCOUNT``, ``AZURE_STORAGE_ACCOUNT``, else the local ones):
    jobs first, then pools, then blob containers. An account the target cannot reach
    without a spec to name it is skipped."""
    at = "BatchJob/*/teardown"
    account, store = default_batch_account(target), default_blob_store(target)

    def read(fn: Callable[[], Any]) -> Any:
        return call_with_retry(fn, address=at, what=at, emit=emit)

    pools: list[tuple[str, str, str]] = []
    jobs: list[tuple[str, str, str]] = []
    owned: list[tuple[str, str]] = []
    if account is not None:
        pools, jobs = read(partial(account.list_owned, workspace))
    if store is not None:
        owned = read(partial(store.list_owned_containers, workspace))
    pools = [p for p in pools if p[2] != "deleting"]
    jobs = [j for j in jobs if j[2] != "deleting"]
    if not (pools or jobs or owned):  # nothing of Batch's to say
        return RunResult(ok=True, counts={"deleted": 0})

    def remove_all(_deps: Mapping[str, StepOutcome]) -> StepOutcome:
        out = StepOutcome()

        def remove(addr: str, delete: Callable[[], Any]) -> None:
            try:
                existed = call_with_retry(delete, address=addr, what=addr, emit=emit)
            except RunnerError as exc:
                out.errors.append(f"delete of {addr} failed: {exc}")
                return
            if existed is not False:
                out.removed.append(addr)

        for job_id, spec, _ in jobs:
            assert account is not None
            remove(address(spec, "job", job_id), partial(account.delete_job, job_id))
        for pool_id, spec, _ in pools:
            assert account is not None
            remove(address(spec, "pool", pool_id), partial(account.delete_pool, pool_id))
        for name, spec in owned:
            assert store is not None
            remove(address(spec, "container", name), partial(store.delete_container, name))
        emit(TeardownReport(address=at, removed=tuple(out.removed)))
        out.counts["deleted"] = len(out.removed)
        if out.errors:
            out.ok, out.status = False, "failed"
        return out

    step = Step(key=at, address=at, label="teardown", run=remove_all)
    outcomes = run_steps([step], emit=emit, cancel=threading.Event(), workers=1)
    return fold(outcomes)
