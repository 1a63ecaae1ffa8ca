"""Dependency order, skips and cancel in the executor, with a plain handler (no SDK)."""

from __future__ import annotations

import threading
from typing import Any

from runner.engine.events import StepFinished, StepStarted
from runner.engine.executor import Step, StepOutcome, fold, run_changes, run_steps
from runner.errors import PermanentError
from runner.plan.action import Action
from runner.plan.model import Change


def change(address: str, action: Action = Action.CREATE, *deps: str) -> Change:
    return Change(address=address, action=action, depends_on=deps)


def run(changes: list[Change], handler: Any, cancel: threading.Event | None = None):
    events: list[Any] = []
    outcomes = run_changes(
        changes, handler, emit=events.append, cancel=cancel or threading.Event(), workers=4
    )
    return outcomes, events


def test_dependencies_finish_before_dependents_start() -> None:
    order: list[str] = []
    lock = threading.Lock()

    def handler(ch: Change) -> StepOutcome:
        with lock:
            order.append(str(ch.address))
        return StepOutcome()

    changes = [
        change("ResourceGroup/rg"),
        change("ContainerGroup/rg/a", Action.CREATE, "ResourceGroup/rg"),
        change("ContainerGroup/rg/b", Action.CREATE, "ResourceGroup/rg"),
        change("ResourceGroup/old", Action.DELETE, "ContainerGroup/old/x"),
        change("ContainerGroup/old/x", Action.DELETE),
    ]
    outcomes, _ = run(changes, handler)
    assert all(o.ok for o in outcomes.values())
    assert order.index("ResourceGroup/rg") < order.index("ContainerGroup/rg/a")
    assert order.index("ResourceGroup/rg") < order.index("ContainerGroup/rg/b")
    assert order.index("ContainerGroup/old/x") < order.index("ResourceGroup/old")


def test_noop_and_conflict_run_nothing_and_satisfy_dependents() -> None:
    ran: list[str] = []

    def handler(ch: Change) -> StepOutcome:
        ran.append(str(ch.address))
        return StepOutcome()

    changes = [
        change("ResourceGroup/rg", Action.NOOP),
        change("ContainerGroup/rg/theirs", Action.CONFLICT, "ResourceGroup/rg"),
        change("ContainerGroup/rg/a", Action.UPDATE, "ResourceGroup/rg"),
    ]
    outcomes, _ = run(changes, handler)
    assert ran == ["ContainerGroup/rg/a"]
    assert outcomes["ContainerGroup/rg/theirs"].ok


def test_a_failed_dependency_skips_its_dependents() -> None:
    def handler(ch: Change) -> StepOutcome:
        if str(ch.address) == "ResourceGroup/rg":
            raise PermanentError("403 AuthorizationFailed: no", code="AuthorizationFailed")
        return StepOutcome()

    changes = [
        change("ResourceGroup/rg"),
        change("ContainerGroup/rg/a", Action.CREATE, "ResourceGroup/rg"),
        change("ContainerGroup/other/b"),
    ]
    outcomes, events = run(changes, handler)
    assert outcomes["ResourceGroup/rg"].status == "failed"
    assert "AuthorizationFailed" in outcomes["ResourceGroup/rg"].message
    assert outcomes["ContainerGroup/rg/a"].status == "skipped"
    assert not outcomes["ContainerGroup/rg/a"].ok
    assert outcomes["ContainerGroup/other/b"].ok
    started = {e.address for e in events if isinstance(e, StepStarted)}
    assert "ContainerGroup/rg/a" not in started
    finished = {e.address: e.outcome for e in events if isinstance(e, StepFinished)}
    assert finished["ContainerGroup/rg/a"] == "skipped"


def test_cancel_starts_nothing_new() -> None:
    cancel = threading.Event()

    def handler(ch: Change) -> StepOutcome:
        cancel.set()  # Ctrl-C while the first change runs
        return StepOutcome()

    changes = [
        change("ResourceGroup/rg"),
        change("ContainerGroup/rg/a", Action.CREATE, "ResourceGroup/rg"),
    ]
    outcomes, _ = run(changes, handler, cancel)
    assert outcomes["ResourceGroup/rg"].ok
    assert outcomes["ContainerGroup/rg/a"].status == "skipped"
    assert outcomes["ContainerGroup/rg/a"].message == "cancelled before it started"


def step(key: str, run: Any, *deps: str, always: bool = False) -> Step:
    return Step(
        key=key, address=f"BatchJob/x/{key}", label=key, run=run, depends_on=deps, always=always
    )


def test_an_always_step_runs_after_a_failure_and_sees_its_dependencies() -> None:
    seen: dict[str, Any] = {}

    def fail(_deps: Any) -> StepOutcome:
        raise PermanentError("pool could not be made")

    def teardown(deps: Any) -> StepOutcome:
        seen.update(deps)
        return StepOutcome(removed=["BatchJob/x/pool/p"])

    steps = [
        step("pool", fail),
        step("job", lambda _d: StepOutcome(), "pool"),
        step("teardown", teardown, "pool", "job", always=True),
    ]
    outcomes = run_steps(steps, emit=lambda _e: None, cancel=threading.Event(), workers=4)
    assert outcomes["job"].status == "skipped"
    assert outcomes["teardown"].ok
    assert {k: o.status for k, o in seen.items()} == {"pool": "failed", "job": "skipped"}
    result = fold(outcomes, skips_are_errors=False)
    assert not result.ok
    assert result.errors == ["pool: pool could not be made"]
    assert result.removed == ["BatchJob/x/pool/p"]


def test_after_a_cancel_only_always_steps_start() -> None:
    cancel = threading.Event()
    ran: list[str] = []

    def first(_deps: Any) -> StepOutcome:
        cancel.set()
        ran.append("wait")
        return StepOutcome(ok=False, status="cancelled", message="cancelled")

    steps = [
        step("wait", first),
        step("collect", lambda _d: ran.append("collect") or StepOutcome(), "wait"),
        step("teardown", lambda _d: ran.append("teardown") or StepOutcome(), "wait", always=True),
    ]
    events: list[Any] = []
    outcomes = run_steps(steps, emit=events.append, cancel=cancel, workers=4)
    assert ran == ["wait", "teardown"]
    assert outcomes["collect"].message == "cancelled before it started"
    finished = [(e.address, e.outcome) for e in events if isinstance(e, StepFinished)]
    assert ("BatchJob/x/teardown", "ok") in finished
