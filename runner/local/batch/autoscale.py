"""Autoscale as the Batch service runs it: samples of each autoscaled pool's metrics, its
formula evaluated at its interval, the result kept as the pool's ``autoScaleRun`` and the
pool resized to the targets the formula set.

Batch samples a pool's metrics every 30 seconds; a pool made with autoscale is evaluated
as it is made, one that enables it later an interval after (Azure's recorded pool had not
been evaluated 2 s after the enable), then every interval. Locally the whole autoscale
clock runs ``speedup`` times faster (``Settings.autoscale_speedup``): intervals, sample
periods and the time intervals inside formulas alike.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from runner.local.batch import dependencies
from runner.local.batch.autoscale_formula import (
    RESOURCE_METRICS,
    SAMPLE_PERIOD,
    FormulaError,
    Inputs,
    Metric,
    evaluate,
)
from runner.local.batch.jobs import pool_of
from runner.local.batch.runtime import PoolRuntime
from runner.local.batch.state import BatchState, Doc
from runner.local.batch.wire import now_iso, parse_duration, set_state

# Two hours of Batch time, the longest window a formula is likely to read.
HISTORY = 240
DEFAULT_INTERVAL = 15 * 60.0


def task_metrics(state: BatchState, pool_id: str) -> dict[str, float]:
    """The task counts of the active jobs on the pool, as Batch's task metrics count them:
    ``$ActiveTasks`` leaves out tasks whose dependencies are not satisfied."""
    counts = dict.fromkeys(("active", "running", "succeeded", "failed"), 0.0)
    for job in state.jobs.values():
        if job["state"] != "active" or pool_of(job) != pool_id:
            continue
        tasks = state.tasks.get(job["id"], {})
        for task in tasks.values():
            if task["state"] == "active" and dependencies.ready(task, tasks):
                counts["active"] += 1
            elif task["state"] in ("preparing", "running"):
                counts["running"] += 1
            elif task["state"] == "completed":
                ok = task["executionInfo"].get("result") == "success"
                counts["succeeded" if ok else "failed"] += 1
    nodes = state.nodes.get(pool_id, {}).values()
    return {
        "$ActiveTasks": counts["active"],
        "$RunningTasks": counts["running"],
        "$PendingTasks": counts["active"] + counts["running"],
        "$SucceededTasks": counts["succeeded"],
        "$FailedTasks": counts["failed"],
        "$SampleNodeCount": float(len(nodes)),
        "$PreemptedNodeCount": float(sum(1 for n in nodes if n["state"] == "preempted")),
        **dict.fromkeys(RESOURCE_METRICS, 0.0),
    }


@dataclass
class _PoolClock:
    due: float
    sampled: float = 0.0
    samples: dict[str, deque[tuple[float, float]]] = field(default_factory=dict)


class Autoscaler:
    """The scheduler's autoscale work; its methods are called with the state's lock held."""

    def __init__(self, speedup: float = 300.0) -> None:
        self.scale = 1.0 / max(1.0, speedup)  # local seconds per Batch second
        self._pools: dict[str, _PoolClock] = {}

    def enabled(self, pool_id: str, now: float, interval: str | None) -> None:
        """Autoscale enabled (or re-enabled) on an existing pool: a new schedule starts."""
        clock = self._pools.get(pool_id)
        due = now + self._interval(interval)
        if clock is None:
            self._pools[pool_id] = _PoolClock(due=due)
        else:
            clock.due = due

    def forget(self, pool_id: str) -> None:
        self._pools.pop(pool_id, None)

    def tick(self, state: BatchState, pool: Doc, record: PoolRuntime, now: float) -> None:
        if not pool.get("enableAutoScale") or pool["state"] != "active":
            self.forget(pool["id"])
            return
        clock = self._pools.get(pool["id"])
        if clock is None:
            # Made with autoscale: evaluated as it is made; after a restart, at the interval.
            first = now if "autoScaleRun" not in pool else now + self._interval(pool)
            clock = self._pools[pool["id"]] = _PoolClock(due=first)
        if not clock.samples or now - clock.sampled >= SAMPLE_PERIOD * self.scale:
            self._sample(state, pool["id"], clock, now)
        if now < clock.due:
            return
        clock.due = now + self._interval(pool)
        run(pool, record, self.inputs(pool, clock, now))
        state.save_pool(pool)

    def inputs(self, pool: Doc, clock: _PoolClock | None, now: float) -> Inputs:
        samples = clock.samples if clock is not None else {}
        return Inputs(
            target_dedicated=float(pool.get("targetDedicatedNodes", 0)),
            target_low_priority=float(pool.get("targetLowPriorityNodes", 0)),
            current_dedicated=float(pool.get("currentDedicatedNodes", 0)),
            current_low_priority=float(pool.get("currentLowPriorityNodes", 0)),
            metrics={k: Metric(list(v), now, self.scale) for k, v in samples.items()},
        )

    def evaluation_inputs(self, state: BatchState, pool: Doc, now: float) -> Inputs:
        """What an evaluate-autoscale request runs on: the samples so far, at least one."""
        clock = self._pools.get(pool["id"])
        if clock is None:
            clock = _PoolClock(due=now)
            self._sample(state, pool["id"], clock, now)
        return self.inputs(pool, clock, now)

    def _sample(self, state: BatchState, pool_id: str, clock: _PoolClock, now: float) -> None:
        clock.sampled = now
        for name, value in task_metrics(state, pool_id).items():
            clock.samples.setdefault(name, deque(maxlen=HISTORY)).append((now, value))

    def _interval(self, pool_or_text: Doc | str | None) -> float:
        text = (
            pool_or_text.get("autoScaleEvaluationInterval")
            if isinstance(pool_or_text, dict)
            else pool_or_text
        )
        seconds = parse_duration(text) if text else None
        return (seconds or DEFAULT_INTERVAL) * self.scale


def run(pool: Doc, record: PoolRuntime, inputs: Inputs) -> None:
    """One evaluation: its results (or error) as ``autoScaleRun``, and the new targets."""
    try:
        outcome = evaluate(pool["autoScaleFormula"], inputs)
        targets = (outcome.dedicated, outcome.low_priority, outcome.deallocation)
    except FormulaError as err:
        pool["autoScaleRun"] = {"timestamp": now_iso(), "error": run_error(str(err))}
        return
    pool["autoScaleRun"] = {"timestamp": now_iso(), "results": outcome.results}
    resize(pool, record, targets)


def resize(pool: Doc, record: PoolRuntime, targets: tuple[int, int, str]) -> None:
    """The pool's new targets; a steady pool whose targets moved starts resizing."""
    dedicated, low_priority, deallocation = targets
    changed = (pool["targetDedicatedNodes"], pool["targetLowPriorityNodes"]) != (
        dedicated,
        low_priority,
    )
    pool["targetDedicatedNodes"], pool["targetLowPriorityNodes"] = dedicated, low_priority
    record.deallocation = deallocation
    if changed and pool["allocationState"] == "steady":
        pool.pop("resizeErrors", None)
        set_state(pool, "resizing", "allocationState")


def run_error(message: str) -> Doc:
    """An ``AutoScaleRunError``: code, message and the message again as a value."""
    return {
        "code": "AutoScalingFormulaEvaluationError",
        "message": "The autoscale formula could not be evaluated.",
        "values": [{"name": "Message", "value": message}],
    }
