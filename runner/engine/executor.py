"""The one executor: runs steps in dependency order on a bounded thread pool.

A step is a unit of work with a key, the address its events name, and the keys it
depends on. Steps whose dependencies have ended start at once, several at a time; a step
whose dependency failed is skipped. On cancel no new step starts, except ``always``
steps (teardown), which run once their dependencies have ended, whatever those did;
running steps see the cancel themselves (their waits end at once).

``run_changes`` runs a plan's changes as steps. No-op and conflict changes run nothing
and count as done, except no-ops that ``follow`` picks: work goes on after them (a run
in progress to wait for), so they reach the handler as a ``wait`` step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from runner.engine.events import Emit, StepFinished, StepStarted
from runner.engine.result import RunResult
from runner.errors import Cancelled, RunnerError
from runner.plan.action import Action
from runner.plan.model import Change

WORKERS = 64  # waits dominate: threads mostly sleep in polls, so many can run at once


@dataclass
class StepOutcome:
    """What one step did; ``fold`` turns a run's outcomes into a ``RunResult``."""

    ok: bool = True
    status: str = "ok"  # ok, failed, skipped, cancelled
    message: str = ""
    removed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # What the run reports for this step; any fails the run (a step may finish its own
    # work and still report failures: tasks that failed, a delete refused). A step that
    # did not succeed and says nothing is reported by its key and message.
    errors: list[str] = field(default_factory=list)
    timed_out: bool = False  # it stopped because the run's deadline came
    detail: dict[str, Any] = field(default_factory=dict)  # for the StepFinished event
    value: Any = None  # what it hands on to the steps that depend on it


# A step is given the outcomes of its dependencies.
StepRun = Callable[[Mapping[str, StepOutcome]], StepOutcome]


@dataclass(frozen=True)
class Step:
    key: str  # unique in a run; what ``depends_on`` names
    address: str  # what its events name
    label: str  # create, upload, poll, collect, teardown...
    run: StepRun
    depends_on: tuple[str, ...] = ()
    always: bool = False  # runs after failed dependencies and after a cancel too
    skip_label: str | None = None  # the label of its event when skipped, if not ``label``


Handler = Callable[[Change], StepOutcome]


def run_steps(
    steps: Sequence[Step],
    *,
    emit: Emit,
    cancel: threading.Event,
    workers: int = WORKERS,
    settled: Mapping[str, StepOutcome] | None = None,
) -> dict[str, StepOutcome]:
    """Outcomes by step key. ``settled``: outcomes known before the run (keys that
    steps may depend on and that need no work)."""
    outcomes: dict[str, StepOutcome] = dict(settled or {})
    known = set(outcomes) | {s.key for s in steps}
    pending = list(steps)
    running: dict[Future[StepOutcome], Step] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="runner") as pool:
        while pending or running:
            if cancel.is_set():
                for s in [s for s in pending if not s.always]:
                    pending.remove(s)
                    outcomes[s.key] = _skip(s, "cancelled before it started", emit)
            for s in list(pending):
                deps = [d for d in s.depends_on if d in known]
                if any(d not in outcomes for d in deps):
                    continue
                pending.remove(s)
                failed = [d for d in deps if not outcomes[d].ok]
                if failed and not s.always:
                    outcomes[s.key] = _skip(s, f"{', '.join(failed)} failed", emit)
                    continue
                emit(StepStarted(address=s.address, step=s.label))
                before = {d: outcomes[d] for d in deps}
                running[pool.submit(_guarded, s.run, before)] = s
            if not running:
                # Whatever is still pending waits on itself: a cycle, which a plan never has.
                for s in pending:
                    outcomes[s.key] = _skip(s, "dependency cycle", emit)
                pending = []
                continue
            done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                s = running.pop(future)
                outcome = future.result()
                outcomes[s.key] = outcome
                emit(
                    StepFinished(
                        address=s.address,
                        step=s.label,
                        outcome=outcome.status,
                        message=outcome.message,
                        detail=outcome.detail,
                    )
                )
    return outcomes


def run_changes(
    changes: Sequence[Change],
    handler: Handler,
    *,
    emit: Emit,
    cancel: threading.Event,
    workers: int = WORKERS,
    follow: Callable[[Change], bool] | None = None,
) -> dict[str, StepOutcome]:
    """Outcomes by change address (its text)."""
    followed = {
        str(ch.address) for ch in changes if ch.action is Action.NOOP and follow and follow(ch)
    }

    def runs(ch: Change) -> bool:
        return ch.action.changes_anything or str(ch.address) in followed

    settled = {
        str(ch.address): StepOutcome(status="skipped", message=ch.reason)
        for ch in changes
        if not runs(ch)
    }
    steps = [
        Step(
            key=str(ch.address),
            address=str(ch.address),
            label="wait" if str(ch.address) in followed else str(ch.action),
            run=partial(_change_step, handler, ch),
            depends_on=tuple(str(d) for d in ch.depends_on),
            skip_label=str(ch.action),
        )
        for ch in changes
        if runs(ch)
    ]
    return run_steps(steps, emit=emit, cancel=cancel, workers=workers, settled=settled)


def _change_step(handler: Handler, change: Change, _deps: Mapping[str, StepOutcome]) -> StepOutcome:
    return handler(change)


def fold(outcomes: Mapping[str, StepOutcome], *, skips_are_errors: bool = True) -> RunResult:
    """One ``RunResult`` from a run's outcomes: counts summed, removed, left and outputs
    in step order, the errors of each step that did not succeed or reported any
    (``skips_are_errors``: skipped ones too, named by what they waited for)."""
    result = RunResult()
    for key, o in outcomes.items():
        for name, value in o.counts.items():
            result.count(name, value)
        result.removed += o.removed
        result.left += o.left
        result.outputs += o.outputs
        if o.ok and not o.errors:
            continue
        if o.status == "skipped" and not skips_are_errors:
            continue
        result.ok = False
        result.errors += o.errors or [f"{key}: {o.message}"]
    return result


def _guarded(run: StepRun, deps: Mapping[str, StepOutcome]) -> StepOutcome:
    try:
        return run(deps)
    except Cancelled as exc:
        return StepOutcome(ok=False, status="cancelled", message=str(exc))
    except RunnerError as exc:
        return StepOutcome(ok=False, status="failed", message=str(exc))


def _skip(s: Step, why: str, emit: Emit) -> StepOutcome:
    label = s.skip_label or s.label
    emit(StepFinished(address=s.address, step=label, outcome="skipped", message=why))
    return StepOutcome(ok=False, status="skipped", message=why)
