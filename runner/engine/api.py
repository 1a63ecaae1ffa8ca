"""The engine's entry points, used by the CLI: plan, apply, destroy, status, logs.

Container group specs run here; ``BatchJob`` specs are handed to the Batch workflow
(``runner.engine.batch``), imported only when such a spec is present.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.backends.target import Target
from runner.engine.aci import AciApply
from runner.engine.events import Emit, RunSummary
from runner.engine.executor import fold, run_changes
from runner.engine.fingerprint_key import key_for
from runner.engine.inputs import read_inputs
from runner.engine.inspect import logs, status
from runner.engine.lock import WorkspaceLock
from runner.engine.observe import read_state, subscriptions_of
from runner.engine.provenance import stamps_for
from runner.engine.result import RunResult
from runner.engine.retry import Clock, call_with_retry
from runner.errors import RunnerError, SpecError
from runner.plan.action import Action
from runner.plan.batch_desired import DesiredBatch, desired_batch
from runner.plan.canonical import FingerprintKey
from runner.plan.diff import diff, diff_destroy
from runner.plan.model import Address, Change, Plan
from runner.plan.observed import group_address
from runner.plan.provenance import Stamp
from runner.spec.loaded import with_steps
from runner.spec.models import BatchJob, ContainerGroup, Workflow

if TYPE_CHECKING:
    from runner.spec.loader import LoadedSpec

RUN_TIMEOUT = 3600.0  # a run-to-completion group that has not finished by then times out
ACI_KINDS = ("ResourceGroup", "ContainerGroup")


def _nothing(_event: Any) -> None:
    return None


def _groups(specs: Sequence[LoadedSpec] | None) -> list[ContainerGroup]:
    return [s.spec for s in specs or () if isinstance(s.spec, ContainerGroup)]


def _batches(specs: Sequence[LoadedSpec] | None) -> list[LoadedSpec]:
    return [s for s in specs or () if isinstance(s.spec, BatchJob)]


def _workflows(specs: Sequence[LoadedSpec] | None) -> list[LoadedSpec]:
    return [s for s in specs or () if isinstance(s.spec, Workflow)]


def _batch_module() -> Any:
    try:
        from runner.engine import batch
    except ImportError as exc:
        raise RunnerError(f"BatchJob is not supported yet ({exc})") from exc
    return batch


# --- plan ---------------------------------------------------------------------------


def build_plan(
    specs: list[LoadedSpec],
    target: Target,
    workspace: str,
    *,
    prune: bool = False,
    emit: Emit | None = None,
    refresh: bool = False,
    key: FingerprintKey | None = None,
    rerun_failed: bool = False,
    rerun: Sequence[str] = (),
) -> Plan:
    """Reads live state and diffs. ``emit`` receives the retries of the reads, if given.

    ``refresh`` also reads the instance view of every unchanged always-running group (one
    request each), so that one stopped outside runner is started again. ``key``
    fingerprints secure values (default: this machine's, see ``fingerprint_key``).
    ``rerun_failed``: the failed tasks of kept Batch jobs run again. ``rerun``: names of
    BatchJob specs whose results record is not looked at (their tasks all run again)."""
    names = {s.spec.name for s in specs} | {
        n for w in _workflows(specs) for st in w.steps for n in (st.name, st.spec.name)
    }
    unknown = sorted(set(rerun) - names)
    if unknown:
        raise RunnerError(f"--rerun {unknown[0]}: no spec of that name among the specs given")
    emit = emit or _nothing
    groups = _groups(specs)
    changes: list[Change] = []
    orphans: tuple[Address, ...] = ()
    if groups:
        views = "specs" if refresh else "needed"
        key = key_for(groups, key)
        observed = read_state(
            target, groups, workspace=workspace, emit=emit, instance_views=views, key=key
        )
        aci_plan = diff(
            groups,
            observed,
            workspace=workspace,
            prune=prune,
            subscriptions=subscriptions_of(groups, target),
            key=key,
        )
        changes += aci_plan.changes
        orphans = aci_plan.orphans
    batches: list[DesiredBatch] = []
    for loaded in _batches(specs):
        desired, batch_changes = _batch_changes(
            loaded, target, workspace, emit, rerun_failed, rerun=loaded.spec.name in rerun
        )
        batches.append(desired)
        changes += batch_changes
    for loaded in _workflows(specs):
        run = _workflow_run(loaded, target, workspace, emit, rerun, threading.Event())
        from runner.engine.workflow import plan_workflow

        changes += plan_workflow(run)
    return Plan(
        workspace=workspace, changes=tuple(changes), orphans=orphans, batches=tuple(batches)
    )


def _joined(change: Change, observed: Any) -> Change:
    """A step's group that an apply killed since sent with this very definition and that
    ran to success is that run's: joined (collected, torn down), not started again."""
    if change.kind != "ContainerGroup":
        return change
    seen = observed.container_group(change.address.scope, change.address.name)
    if change.action is Action.START and seen is not None and seen.instance_state == "Succeeded":
        return change.model_copy(
            update={"action": Action.NOOP, "reason": "ran to success for an earlier apply"}
        )
    return change


def _workflow_run(
    loaded: LoadedSpec,
    target: Target,
    workspace: str,
    emit: Emit,
    rerun: Sequence[str],
    cancel: threading.Event,
    ttl: timedelta | None = None,
) -> Any:
    """A workflow's run, lent the plan and the run of one group spec and one BatchJob."""
    from runner.engine.workflow import WorkflowRun

    def run_group(group: LoadedSpec, emit: Emit, before_send: Callable[[], None]) -> RunResult:
        spec = group.spec
        assert isinstance(spec, ContainerGroup)
        key = key_for([spec], None)
        observed = read_state(target, [spec], workspace=workspace, emit=emit, key=key)
        aci_plan = diff(
            [spec],
            observed,
            workspace=workspace,
            subscriptions=subscriptions_of([spec], target),
            key=key,
        )
        changes = [_joined(c, observed) for c in aci_plan.changes]
        if any(c.action.changes_anything for c in changes if c.kind == "ContainerGroup"):
            before_send()
        return _run_aci(
            changes,
            [spec],
            target,
            emit,
            workspace,
            cancel,
            RUN_TIMEOUT,
            follow=True,
            key=key,
            stamps=stamps_for([group], ttl),
        )

    def plan_batch(batch: LoadedSpec, desired: DesiredBatch, again: bool) -> list[Change]:
        from runner.backends.batch import read_batch_state
        from runner.plan.batch import diff_desired

        spec = batch.spec
        assert isinstance(spec, BatchJob)
        observed = call_with_retry(
            lambda: read_batch_state(spec, target, workspace),
            address=str(Address.batch(spec.name)),
            what="read",
            emit=emit,
        )
        return diff_desired(desired, observed, workspace=workspace, rerun=again)

    def run_batch(
        batch: LoadedSpec, changes: list[Change], desired: DesiredBatch, emit: Emit
    ) -> RunResult:
        spec_address = Address.batch(batch.spec.name)
        stamp = stamps_for([batch], ttl).get(spec_address.folded(), Stamp())
        conflicts_ = [c for c in changes if c.action is Action.CONFLICT]
        if conflicts_:
            return RunResult(
                ok=False, errors=[f"{c.address} was not touched: {c.reason}" for c in conflicts_]
            )
        return _batch_module().run_batch_job(
            batch,
            changes,
            target,
            emit,
            desired=dataclasses.replace(desired, stamp=stamp),
            workspace=workspace,
            cancel=cancel,
        )

    return WorkflowRun(
        loaded=loaded,
        target=target,
        emit=emit,
        workspace=workspace,
        rerun=frozenset(rerun),
        run_group=run_group,
        plan_batch=plan_batch,
        run_batch=run_batch,
        cwd=Path.cwd(),
    )


def _batch_changes(
    loaded: LoadedSpec,
    target: Target,
    workspace: str,
    emit: Emit,
    rerun_failed: bool = False,
    *,
    rerun: bool = False,
) -> tuple[DesiredBatch, list[Change]]:
    """The spec's local files are read first, once: the plan carries what they gave."""
    _batch_module()
    from runner.backends.batch import read_batch_state
    from runner.plan.batch import diff_desired
    from runner.plan.container_checks import (
        IMAGE_FIELD,
        container_image_problem,
        registry_password_problems,
    )

    spec = loaded.spec
    assert isinstance(spec, BatchJob)
    desired = desired_batch(spec, read_inputs(spec, loaded.base_dir))
    observed = call_with_retry(
        lambda: read_batch_state(spec, target, workspace),
        address=str(Address.batch(spec.name)),
        what="read",
        emit=emit,
    )
    problems = registry_password_problems(desired, os.environ)
    image_problem = container_image_problem(desired, observed)
    if image_problem:
        problems.append((IMAGE_FIELD, image_problem))
    if problems:
        errors = [loaded.error(f"{why}; nothing was created", at) for at, why in problems]
        raise SpecError(
            [d for e in errors for d in e.diagnostics],
            {name: text for e in errors for name, text in e.sources.items()},
        )
    changes = diff_desired(
        desired, observed, workspace=workspace, rerun_failed=rerun_failed, rerun=rerun
    )
    return desired, changes


# --- apply and destroy ----------------------------------------------------------------


def apply(
    plan: Plan,
    specs: list[LoadedSpec],
    target: Target,
    emit: Emit,
    *,
    workspace: str,
    prune: bool = False,
    cancel: threading.Event | None = None,
    timeout: float = RUN_TIMEOUT,
    key: FingerprintKey | None = None,
    ttl: timedelta | None = None,
    rerun: Sequence[str] = (),
) -> RunResult:
    """``ttl`` (``--ttl``) sets every spec's expiry, over the spec's own ``ttl``.
    ``rerun``: workflow steps run again even if their record says they are done."""
    cancel = cancel or threading.Event()
    result = RunResult()
    key = key_for(_groups(specs), key)
    # Counted from now, when the run starts making things, not from the plan.
    stamps = stamps_for(specs, ttl)
    with WorkspaceLock(workspace):
        changes = [c for c in plan.changes if c.kind in ACI_KINDS]
        if prune and plan.orphans and not any(c.action is Action.DELETE for c in changes):
            pruned = build_plan(specs, target, workspace, prune=True, emit=emit, key=key)
            changes += [
                c for c in pruned.changes if c.kind in ACI_KINDS and c.action is Action.DELETE
            ]
        if changes:
            result.merge(
                _run_aci(
                    changes,
                    _groups(specs),
                    target,
                    emit,
                    workspace,
                    cancel,
                    timeout,
                    follow=True,
                    key=key,
                    stamps=stamps,
                )
            )
        for loaded in _batches(specs):
            if cancel.is_set():
                break
            batch = _batch_module()
            spec_address = Address.batch(loaded.spec.name)
            mine = [c for c in plan.changes if c.address.root == spec_address]
            desired = plan.batch(loaded.spec.name)
            if desired is None:
                raise RunnerError(f"the plan holds no inputs for {spec_address}: plan it again")
            desired = dataclasses.replace(desired, stamp=stamps.get(spec_address.folded(), Stamp()))
            result.merge(
                batch.run_batch_job(
                    loaded, mine, target, emit, desired=desired, workspace=workspace, cancel=cancel
                )
            )
        for loaded in _workflows(specs):
            if cancel.is_set():
                break
            from runner.engine.workflow import run_workflow

            run = _workflow_run(loaded, target, workspace, emit, rerun, cancel, ttl)
            result.merge(run_workflow(run, cancel))
    # A resource someone else made was left as it is: the specs were not applied.
    for change in conflicts(plan):
        result.ok = False
        result.errors.append(f"{change.address} was not touched: {change.reason}")
    emit(RunSummary(address="apply", counts=dict(result.counts), ok=result.ok))
    return result


def conflicts(plan: Plan) -> list[Change]:
    """Resources of the specs that exist but are not this workspace's: plan and apply
    both fail on them (an error wins over changes, as in Terraform)."""
    return [c for c in plan.changes if c.action is Action.CONFLICT]


def _run_aci(
    changes: list[Change],
    groups: list[ContainerGroup],
    target: Target,
    emit: Emit,
    workspace: str,
    cancel: threading.Event,
    timeout: float,
    *,
    follow: bool = False,
    key: FingerprintKey | None = None,
    stamps: dict[Address, Stamp] | None = None,
) -> RunResult:
    """``follow``: wait for the runs still going in unchanged groups (apply, not destroy)."""
    clock = Clock(cancel=cancel)
    handler = AciApply(
        target=target,
        specs={group_address(g.resource_group, g.name).folded(): g for g in groups},
        workspace=workspace,
        emit=emit,
        clock=clock,
        deadline=clock.now() + timeout,
        cwd=Path.cwd(),
        key=key,
        stamps=stamps or {},
    )
    outcomes = run_changes(
        changes, handler, emit=emit, cancel=cancel, follow=handler.follows if follow else None
    )
    return fold(outcomes)


def destroy(
    specs: list[LoadedSpec] | None, target: Target, emit: Emit, *, workspace: str
) -> RunResult:
    result = RunResult()
    workflows = _workflows(specs)
    if specs is not None:
        specs = with_steps(specs)
    with WorkspaceLock(workspace):
        groups = _groups(specs)
        if specs is None or groups:
            observed = read_state(target, groups, workspace=workspace, emit=emit)
            plan = diff_destroy(
                groups if specs is not None else None, observed, workspace=workspace
            )
            result.merge(
                _run_aci(
                    list(plan.changes),
                    groups,
                    target,
                    emit,
                    workspace,
                    threading.Event(),
                    RUN_TIMEOUT,
                )
            )
        batches = _batches(specs)
        if specs is None:
            try:
                batch = _batch_module()
            except RunnerError:
                batch = None
            if batch is not None:
                result.merge(batch.destroy_batch(None, target, emit, workspace=workspace))
        for loaded in batches:
            batch = _batch_module()
            result.merge(batch.destroy_batch(loaded, target, emit, workspace=workspace))
        for loaded in workflows:
            from runner.engine.workflow import destroy_container

            result.merge(destroy_container(loaded, target, emit, workspace))
    emit(RunSummary(address="destroy", counts=dict(result.counts), ok=result.ok))
    return result


__all__ = ["apply", "build_plan", "conflicts", "destroy", "logs", "status"]
