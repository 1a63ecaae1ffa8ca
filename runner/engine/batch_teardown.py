"""Teardown of a Batch run per the spec's policy (job, pool, containers), the same on
success, failure, timeout and Ctrl-C; and ``destroy`` of everything a spec owns.

Only what the runner made is ever deleted: pools and jobs that reached this point carry
this spec's ownership (conflicts stop a run before anything happens), and containers
are deleted only when created by the runner.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from runner.backends import batch as bb
from runner.backends import blob
from runner.engine.batch_context import BatchRun
from runner.engine.events import Emit, StepFinished, StepStarted, TeardownReport
from runner.engine.result import RunResult
from runner.engine.retry import call_with_retry
from runner.errors import RunnerError, TargetError
from runner.plan.batch import step_address as address

if TYPE_CHECKING:
    from runner.backends.target import Target


def due(when: str, ok: bool) -> bool:
    return when == "always" or (when == "onSuccess" and ok)


def _remove(
    run: BatchRun,
    addr: str,
    delete: Callable[[], Any],
    removed: list[str],
    left: list[str],
    errors: list[str],
) -> None:
    try:
        existed = run.retry(addr, delete)
    except RunnerError as exc:
        left.append(f"{addr} (delete failed: {exc})")
        errors.append(f"teardown of {addr} failed: {exc}")
        return
    if existed is not False:
        removed.append(addr)
        run.count("deleted")


def teardown(
    run: BatchRun,
    ok: bool,
    owned_containers: set[str],
    errors: list[str],
    keep: dict[str, str] | None = None,
    stop_job: str | None = None,
) -> tuple[list[str], list[str]]:
    """Returns (removed, left), and reports them as a ``TeardownReport``. ``keep`` names
    addresses never to delete, with the reason reported. ``stop_job`` (a reason) asks
    for a job the policy leaves in place to be terminated, so none of its tasks runs on
    past the run's end (after a timeout)."""
    keep = keep or {}
    spec = run.desired.spec
    policy = spec.teardown
    client = run.clients.get("batch")
    service = run.clients.get("blob")
    removed: list[str] = []
    left: list[str] = []
    step = address(run.name, "teardown")
    run.emit(StepStarted(address=step, step="teardown"))

    job_addr = address(run.name, "job", spec.job.id)
    if job_addr in keep:
        left.append(f"{job_addr} ({keep[job_addr]})")
    elif client is not None and due(policy.job, ok):
        _remove(run, job_addr, lambda: bb.delete_job(client, spec.job.id), removed, left, errors)
    else:
        left.append(_left_job(run, job_addr, stop_job, errors))

    pool_addr = address(run.name, "pool", spec.pool.id)
    if pool_addr in keep:
        left.append(f"{pool_addr} ({keep[pool_addr]})")
    elif client is not None and due(policy.pool, ok):
        _remove(run, pool_addr, lambda: bb.delete_pool(client, spec.pool.id), removed, left, errors)
    else:
        left.append(f"{pool_addr} (teardown.pool: {policy.pool})")

    for name in dict.fromkeys(run.desired.containers.values()):
        addr = address(run.name, "container", name)
        if name not in owned_containers:
            left.append(f"{addr} (not made by runner)")
        elif service is not None and due(policy.containers, ok):
            _remove(run, addr, partial(blob.delete_container, service, name), removed, left, errors)
        else:
            left.append(f"{addr} (teardown.containers: {policy.containers})")

    run.emit(TeardownReport(address=step, removed=tuple(removed), left=tuple(left)))
    run.emit(StepFinished(address=step, step="teardown", outcome="ok"))
    return removed, left


def _left_job(run: BatchRun, addr: str, stop_job: str | None, errors: list[str]) -> str:
    policy = run.desired.spec.teardown.job
    client = run.clients.get("batch")
    if stop_job is None or client is None:
        return f"{addr} (teardown.job: {policy})"
    job_id = run.desired.spec.job.id
    try:
        run.retry(addr, lambda: bb.terminate_job(client, job_id, stop_job))
    except RunnerError as exc:
        errors.append(f"terminate of {addr} failed: {exc}")
        return f"{addr} (teardown.job: {policy}; terminate failed)"
    return f"{addr} (teardown.job: {policy}; terminated: {stop_job})"


def default_clients(target: Target) -> tuple[Any, Any]:
    """Batch and Blob clients of the target's default accounts (``AZURE_BATCH_ACCOUNT``,
    ``AZURE_STORAGE_ACCOUNT``, else the local ones), None where there is none to reach
    without a spec naming it."""
    try:
        client = target.batch_client(os.environ.get("AZURE_BATCH_ACCOUNT", "local"))
    except TargetError:
        client = None
    storage = os.environ.get("AZURE_STORAGE_ACCOUNT")
    service = None
    if storage or target.name == "local":
        service = target.blob_service(storage or "local")
    return client, service


def destroy_workspace(target: Target, emit: Emit, workspace: str) -> RunResult:
    """Everything this workspace's runner made in the target's default Batch and Storage
    accounts (``AZURE_BATCH_ACCOUNT``, ``AZURE_STORAGE_ACCOUNT``, else the local ones):
    jobs first, then pools, then blob containers. An account the target cannot reach
    without a spec to name it is skipped."""
    removed: list[str] = []
    errors: list[str] = []
    step = "BatchJob/*/teardown"

    def remove(addr: str, delete: Callable[[], Any]) -> None:
        try:
            existed = call_with_retry(delete, address=addr, what=addr, emit=emit)
        except RunnerError as exc:
            errors.append(f"delete of {addr} failed: {exc}")
            return
        if existed is not False:
            removed.append(addr)

    client, service = default_clients(target)
    pools: list[tuple[str, str, str]] = []
    jobs: list[tuple[str, str, str]] = []
    owned: list[tuple[str, str]] = []
    if client is not None:
        pools, jobs = call_with_retry(
            partial(bb.list_owned, client, workspace), address=step, what=step, emit=emit
        )
    if service is not None:
        owned = call_with_retry(
            partial(blob.list_owned_containers, service, workspace),
            address=step,
            what=step,
            emit=emit,
        )
    pools = [p for p in pools if p[2] != "deleting"]
    jobs = [j for j in jobs if j[2] != "deleting"]
    if not (pools or jobs or owned):  # nothing of Batch's to say
        return RunResult(ok=True, counts={"deleted": 0})
    emit(StepStarted(address=step, step="teardown"))
    for job_id, spec, _ in jobs:
        remove(address(spec, "job", job_id), partial(bb.delete_job, client, job_id))
    for pool_id, spec, _ in pools:
        remove(address(spec, "pool", pool_id), partial(bb.delete_pool, client, pool_id))
    for name, spec in owned:
        remove(address(spec, "container", name), partial(blob.delete_container, service, name))
    emit(TeardownReport(address=step, removed=tuple(removed)))
    emit(StepFinished(address=step, step="teardown", outcome="failed" if errors else "ok"))
    return RunResult(
        ok=not errors, counts={"deleted": len(removed)}, removed=removed, errors=errors
    )
