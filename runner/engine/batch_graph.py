"""The steps of one Batch run, made from its plan's changes, for the engine's executor.

Containers to create come first (at once), then the uploads, the pool, the job, the
removal of tasks that run again, the tasks to add, the wait and collect, each after the
one before it: a step that fails skips the rest. Teardown depends on every step and runs
whatever they did, Ctrl-C included. Pieces the plan found as they should be (a reused
pool, a blob unchanged) get no step.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

from runner.engine import batch_monitor as monitor
from runner.engine import batch_steps as steps
from runner.engine.batch_collect import Collector
from runner.engine.batch_collect import collect as collect_outputs
from runner.engine.batch_context import BatchContext, guarded
from runner.engine.batch_record import collect_recorded, without_done, write_record
from runner.engine.batch_teardown import stop_reason, succeeded, teardown
from runner.engine.executor import Step, StepOutcome, StepRun
from runner.plan.action import Action
from runner.plan.batch import recorded_tasks
from runner.plan.model import Change

# What a pool or job step shows; a job's only other action is a create.
STEP_LABELS = {Action.CREATE: "create", Action.REPLACE: "replace", Action.UPDATE: "update"}


def by_kind(changes: list[Change], piece: str) -> list[Change]:
    """The changes to one kind of piece of the spec: ``container``, ``blob``, ``task``..."""
    return [c for c in changes if c.address.part is not None and c.address.part.kind == piece]


def found_done(changes: list[Change]) -> dict[str, int]:
    """Counters for what the plan found done: blobs unchanged, tasks already in the job."""
    noop = [c for c in changes if c.action is Action.NOOP]
    return {"skipped": len(by_kind(noop, "blob")), "tasks_present": len(by_kind(noop, "task"))}


@dataclass
class _Chain:
    steps: list[Step] = field(default_factory=list)
    last: tuple[str, ...] = ()  # what the next step waits for

    def add(
        self,
        address: str,
        label: str,
        run: StepRun,
        *,
        after: tuple[str, ...] | None = None,
        always: bool = False,
    ) -> str:
        key = f"{address} {label}"
        deps = self.last if after is None else after
        self.steps.append(Step(key, address, label, run, depends_on=deps, always=always))
        return key

    def then(self, address: str, label: str, run: StepRun) -> str:
        self.last = (self.add(address, label, run),)
        return self.last[0]


def _plain(work: Callable[[], StepOutcome]) -> StepRun:
    """A step that needs nothing from the steps before it."""
    return lambda _deps: guarded(work)


def job_steps(ctx: BatchContext, changes: list[Change]) -> list[Step]:
    """The tasks the results record holds (the plan found them done) are not run: their
    outputs come from the output container, and when every task is done that is all
    there is to do."""
    done = recorded_tasks(changes)
    full = ctx.desired
    containers = by_kind(changes, "container")
    owned = {c.address.leaf for c in containers if c.owned}
    output_at = ctx.address("container", full.containers["output"])
    keep = {output_at: "holds the results and their record; runner destroy removes it"}
    if done and len(done) == len(full.tasks):
        only = _plain(partial(collect_recorded, ctx, full, done))
        collect_at = ctx.address("collect")
        steps_ = [Step(collect_at, collect_at, "collect", only)]
        found = [c for c in by_kind(changes, "pool") + by_kind(changes, "job") if c.owned]
        if found or owned - {full.containers["output"]}:
            # What a run stopped in its teardown left goes now, as that teardown would.
            def tear_down_left(deps: Mapping[str, StepOutcome]) -> StepOutcome:
                closing = ctx.closing()
                return guarded(lambda: teardown(closing, succeeded(deps), owned, keep))

            at = ctx.address("teardown")
            steps_.append(
                Step(at, at, "teardown", tear_down_left, depends_on=(collect_at,), always=True)
            )
        return steps_
    ctx = dataclasses.replace(ctx, desired=without_done(full, done))
    chain = _Chain()
    chain.last = tuple(
        chain.add(str(c.address), "create", _plain(partial(steps.create_container, ctx, c)))
        for c in containers
        if c.action is Action.CREATE
    )
    sent = (Action.CREATE, Action.UPDATE)
    todo = {str(c.address) for c in by_kind(changes, "blob") if c.action in sent}
    files = [f for f in ctx.desired.uploads if ctx.address("blob", f.container, f.blob) in todo]
    if files:
        chain.then(ctx.address("blob"), "upload", _plain(partial(steps.upload, ctx, files)))
    for piece, work in (("pool", steps.pool), ("job", steps.job)):
        for change in by_kind(changes, piece):
            if change.action is not Action.NOOP:
                label = STEP_LABELS.get(change.action, "create")
                chain.then(str(change.address), label, _plain(partial(work, ctx, change)))

    tasks = by_kind(changes, "task")
    rerun = sorted(c.address.leaf for c in tasks if c.action is Action.REPLACE)
    wanted = set(rerun) | {c.address.leaf for c in tasks if c.action is Action.CREATE}
    job_at = ctx.address("job", ctx.spec.job.id)
    if rerun:
        chain.then(job_at, "remove stale tasks", _plain(partial(steps.remove_stale, ctx, rerun)))
    if wanted:
        chain.then(job_at, "add tasks", _plain(partial(steps.add_tasks, ctx, wanted, done)))
    collector = Collector(ctx)
    wait = chain.then(job_at, "poll", _plain(partial(monitor.wait, ctx, collector)))

    def collect(deps: Mapping[str, StepOutcome]) -> StepOutcome:
        return guarded(lambda: collect_outputs(ctx, deps[wait].value, collector))

    # A job without collect (a workflow's step) is collected by the step.
    where = ctx.spec.collect.dir if ctx.spec.collect else full.containers["output"]
    collect_at = ctx.address("collect", str(where))
    chain.then(collect_at, "collect", collect)
    if done:
        chain.then(collect_at, "collect done", _plain(partial(collect_recorded, ctx, full, done)))

    def record(deps: Mapping[str, StepOutcome]) -> StepOutcome:
        return guarded(lambda: write_record(ctx, full, deps[wait].value or {}))

    chain.add(
        ctx.address("container", full.containers["output"]),
        "record",
        record,
        after=(wait, *chain.last),
    )

    def tear_down(deps: Mapping[str, StepOutcome]) -> StepOutcome:
        # Teardown runs whatever happened, with its own budget and no cancellation.
        collector.close()  # downloads a failed wait started end before anything goes
        closing = ctx.closing()
        return guarded(
            lambda: teardown(closing, succeeded(deps), owned, keep, stop_job=stop_reason(deps))
        )

    every = tuple(s.key for s in chain.steps)
    chain.add(ctx.address("teardown"), "teardown", tear_down, after=every, always=True)
    return chain.steps
