"""The run's measured times, from engine events given as data with their stamps, and
the cap on what a run may accrue, checked against a clock given as data."""

from __future__ import annotations

import threading
from typing import Any

from runner.engine.cost_meter import CapGuard, CostMeter
from runner.engine.events import Event, StepFinished, StepStarted, TeardownReport
from runner.plan.cost_lines import CapCheck, CostEstimate, CostLine
from runner.plan.price_table import PriceSource
from runner.spec.models import BatchJob, ContainerGroup

POOL = "BatchJob/words/pool/p"
TEARDOWN = "BatchJob/words/teardown"
GROUP = "ContainerGroup/rg/web"


def batch_job(**fields: Any) -> BatchJob:
    return BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": "words",
            "pool": {"id": "p"},
            "job": {"id": "j"},
            "tasks": {"forEachFile": "*.txt", "id": "t-{{ file.stem }}", "command": "true"},
            "collect": {"dir": "out"},
            **fields,
        }
    )


def group(restart: str) -> ContainerGroup:
    return ContainerGroup.model_validate(
        {
            "kind": "ContainerGroup",
            "name": "web",
            "resourceGroup": "rg",
            "restartPolicy": restart,
            "containers": [{"name": "a", "image": "nginx"}],
        }
    )


def seen(meter: CostMeter, *events: Event) -> CostMeter:
    forwarded: list[Event] = []
    emit = meter.watching(forwarded.append)
    for event in events:
        emit(event)
    assert forwarded == list(events)  # the meter only looks
    return meter


def test_a_pool_is_measured_from_its_create_to_its_release() -> None:
    meter = seen(
        CostMeter([batch_job()]),
        StepStarted(address="BatchJob/words/container/words-input", step="create", at=1.0),
        StepStarted(address=POOL, step="create", at=5.0),
        StepFinished(address=POOL, step="create", outcome="ok", at=65.0),
        StepStarted(address="BatchJob/words/job/j", step="poll", at=70.0),
        StepStarted(address=TEARDOWN, step="teardown", at=300.0),
        TeardownReport(address=TEARDOWN, removed=(POOL,), at=305.0),
    )
    assert meter.measured() == {POOL: 300.0}
    assert meter.running(removed=()) == frozenset()


def test_a_reused_pool_is_measured_from_the_runs_first_step_and_a_kept_one_runs_on() -> None:
    meter = seen(
        CostMeter([batch_job()]),
        StepStarted(address="BatchJob/words/task/j/t-a", step="create", at=10.0),
        TeardownReport(address=TEARDOWN, left=(POOL,), at=40.0),
    )
    assert meter.measured() == {POOL: 30.0}
    assert meter.running(removed=()) == frozenset({POOL})


def test_a_pool_whose_create_was_skipped_allocated_nothing() -> None:
    meter = seen(
        CostMeter([batch_job()]),
        StepStarted(address="BatchJob/words/blob", step="upload", at=1.0),
        StepFinished(address=POOL, step="create", outcome="skipped", at=2.0),
        TeardownReport(address=TEARDOWN, at=3.0),
    )
    assert meter.measured() == {}


def test_a_group_is_measured_from_its_start_to_its_stop() -> None:
    meter = seen(
        CostMeter([group("Never")]),
        StepStarted(address=GROUP, step="create", at=2.0),
        StepFinished(address=GROUP, step="create", outcome="ok", at=47.5),
        StepStarted(address="ContainerGroup/rg/other", step="create", at=3.0),
    )
    assert meter.measured() == {GROUP: 45.5}
    # A finished run-to-completion group bills nothing more, deleted or not.
    assert meter.running(removed=()) == frozenset()


def test_an_always_running_group_left_in_place_runs_on() -> None:
    meter = seen(
        CostMeter([group("Always")]),
        StepStarted(address=GROUP, step="start", at=0.0),
        StepFinished(address=GROUP, step="start", outcome="ok", at=20.0),
    )
    assert meter.running(removed=()) == frozenset({GROUP})
    assert meter.running(removed=(GROUP,)) == frozenset()


def estimate_for(spec: BatchJob, hourly: float) -> CostEstimate:
    cap = spec.cost.cap
    assert cap is not None
    root = "BatchJob/words"
    return CostEstimate(
        source=PriceSource(kind="table", name="t", date="2024-06-01"),
        lines=(CostLine(address=POOL, spec=root, what="", basis="timeout", hourly=hourly),),
        caps=(CapCheck(spec=root, cap=cap, estimate=0.0),),
    )


def test_a_run_whose_accrued_cost_passes_its_cap_is_cancelled_saying_why() -> None:
    spec = batch_job(cost={"cap": 0.01})
    meter = seen(CostMeter([spec]), StepStarted(address=POOL, step="create", at=100.0))
    clock = {"now": 100.0 + 3600 * 0.009 / 3.6}  # 0.009 spent at 3.6 an hour
    cancel = threading.Event()
    guard = CapGuard(meter, estimate_for(spec, 3.6), cancel, now=lambda: clock["now"])
    assert guard.check() is None and not cancel.is_set()
    clock["now"] += 2.0  # 0.002 more: over the cap
    assert guard.check() == (
        "BatchJob/words: stopped: its accrued cost 0.0110 USD passed its cost.cap of 0.01 USD"
    )
    assert cancel.is_set()


def test_time_after_release_accrues_nothing() -> None:
    spec = batch_job(cost={"cap": 0.01})
    meter = seen(
        CostMeter([spec]),
        StepStarted(address=POOL, step="create", at=0.0),
        TeardownReport(address=TEARDOWN, removed=(POOL,), at=5.0),
    )
    cancel = threading.Event()
    guard = CapGuard(meter, estimate_for(spec, 3.6), cancel, now=lambda: 3600.0)
    assert guard.check() is None and not cancel.is_set()  # 5 s at 3.6 an hour: 0.005
