"""Runs a plan's changes in dependency order on a bounded thread pool.

No-op and conflict changes run nothing and count as done, except no-ops that ``follow``
picks: work goes on after them (a run in progress to wait for), so they reach the
handler as a ``wait`` step. A change whose dependency failed is skipped. On cancel no new
change starts; running ones see the event themselves (their waits end at once) and run
their own teardown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from runner.engine.events import Emit, StepFinished, StepStarted
from runner.errors import Cancelled, RunnerError
from runner.plan.action import Action
from runner.plan.model import Change

WORKERS = 64  # waits dominate: threads mostly sleep in polls, so many can run at once


@dataclass
class StepOutcome:
    """What one change did; the engine folds these into a ``RunResult``."""

    ok: bool = True
    status: str = "ok"  # ok, failed, skipped, cancelled
    message: str = ""
    removed: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


Handler = Callable[[Change], StepOutcome]


def run_changes(
    changes: Sequence[Change],
    handler: Handler,
    *,
    emit: Emit,
    cancel: threading.Event,
    workers: int = WORKERS,
    follow: Callable[[Change], bool] | None = None,
) -> dict[str, StepOutcome]:
    outcomes: dict[str, StepOutcome] = {}
    followed = {
        ch.address for ch in changes if ch.action is Action.NOOP and follow and follow(ch)
    }

    def step(ch: Change) -> str:
        return "wait" if ch.address in followed else str(ch.action)

    def runs(ch: Change) -> bool:
        return ch.action.changes_anything or ch.address in followed

    pending = [ch for ch in changes if runs(ch)]
    for ch in changes:
        if not runs(ch):
            outcomes[ch.address] = StepOutcome(status="skipped", message=ch.reason)
    known = {ch.address for ch in changes}
    running: dict[Future[StepOutcome], Change] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="runner") as pool:
        while pending or running:
            if not cancel.is_set():
                for ch in list(pending):
                    deps = [d for d in ch.depends_on if d in known]
                    if any(d not in outcomes for d in deps):
                        continue
                    pending.remove(ch)
                    failed = [d for d in deps if not outcomes[d].ok]
                    if failed:
                        outcomes[ch.address] = _skip(ch, f"{', '.join(failed)} failed", emit)
                        continue
                    emit(StepStarted(address=ch.address, step=step(ch)))
                    running[pool.submit(_guarded, handler, ch)] = ch
            else:
                for ch in pending:
                    outcomes[ch.address] = _skip(ch, "cancelled before it started", emit)
                pending = []
            if not running:
                # Whatever is still pending waits on itself: a cycle, which a plan never has.
                for ch in pending:
                    outcomes[ch.address] = _skip(ch, "dependency cycle", emit)
                pending = []
                continue
            done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                ch = running.pop(future)
                outcome = future.result()
                outcomes[ch.address] = outcome
                emit(
                    StepFinished(
                        address=ch.address,
                        step=step(ch),
                        outcome=outcome.status,
                        message=outcome.message,
                    )
                )
    return outcomes


def _guarded(handler: Handler, change: Change) -> StepOutcome:
    try:
        return handler(change)
    except Cancelled as exc:
        return StepOutcome(ok=False, status="cancelled", message=str(exc))
    except RunnerError as exc:
        return StepOutcome(ok=False, status="failed", message=str(exc))


def _skip(ch: Change, why: str, emit: Emit) -> StepOutcome:
    emit(StepFinished(address=ch.address, step=str(ch.action), outcome="skipped", message=why))
    return StepOutcome(ok=False, status="skipped", message=why)
