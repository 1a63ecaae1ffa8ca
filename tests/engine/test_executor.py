"""Dependency order, skips and cancel in the executor, with a plain handler (no SDK)."""

from __future__ import annotations

import threading
from typing import Any

from runner.engine.events import StepFinished, StepStarted
from runner.engine.executor import StepOutcome, run_changes
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
            order.append(ch.address)
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
        ran.append(ch.address)
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
        if ch.address == "ResourceGroup/rg":
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
