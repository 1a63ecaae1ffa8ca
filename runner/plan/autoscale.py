"""An autoscaled pool as Batch takes it: the formula (the spec's, or the one runner writes
from ``min`` and ``max``) and its evaluation interval, in ISO 8601 as Batch shows it.

Runner's formula is the task-based one of Batch's autoscale docs ("Example 2: Task-based
adjustment", learn.microsoft.com/azure/batch/batch-automatic-scaling): the pending tasks
(active and running) over the last interval, or the last sample while fewer than 70% of
the samples are in, one node per task (per ``taskSlotsPerNode`` tasks), kept between
``min`` and ``max``; nodes leave once their tasks complete (``taskcompletion``), so a
shrinking pool never cuts a task short.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from runner.spec.batch_job import AutoScale, Pool


def iso_duration(value: timedelta) -> str:
    """``PT5M``, ``PT1H30M``, ``P7D``: Batch's normalised form of a duration (it answers
    ``PT06M00S`` as ``PT6M``)."""
    days, rest = divmod(int(value.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    date = f"{days}D" if days else ""
    if not date and not clock:
        clock = "0S"
    return f"P{date}" + (f"T{clock}" if clock else "")


def _window(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    if seconds % 60 == 0:
        return f"TimeInterval_Minute * {seconds // 60}"
    return f"TimeInterval_Second * {seconds}"


def pending_tasks_formula(scale: AutoScale, slots: int) -> str:
    """Batch's pending-tasks formula between ``scale.min`` and ``scale.max``."""
    window = _window(scale.interval)
    target = "$TargetLowPriorityNodes" if scale.low_priority else "$TargetDedicatedNodes"
    other = "$TargetDedicatedNodes" if scale.low_priority else "$TargetLowPriorityNodes"
    # Whole nodes for the pending tasks: Batch keeps the integer part of a target.
    nodes = "$tasks" if slots == 1 else f"($tasks + {slots - 1}) / {slots}"
    lines = [
        f"$samples = $PendingTasks.GetSamplePercent({window});",
        "$tasks = $samples < 70 ? max(0, $PendingTasks.GetSample(1)) : "
        f"max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample({window})));",
        f"{target} = max({scale.min or 0}, min({scale.max}, {nodes}));",
        f"{other} = 0;",
        "$NodeDeallocationOption = taskcompletion;",
    ]
    return "\n".join(lines)


def formula(pool: Pool) -> str | None:
    scale = pool.auto_scale
    if scale is None:
        return None
    if scale.formula is not None:
        return scale.formula
    return pending_tasks_formula(scale, pool.task_slots_per_node)


def canonical(pool: Pool) -> dict[str, Any] | None:
    """The pool's ``autoScale`` in the canonical form the planner compares: what Batch
    stores and shows of it (``autoScaleFormula``, ``autoScaleEvaluationInterval``)."""
    scale = pool.auto_scale
    if scale is None:
        return None
    return {"formula": formula(pool), "evaluationInterval": iso_duration(scale.interval)}


def bounds(pool: Pool) -> tuple[int, int] | None:
    """``(min, max)`` nodes of a pool runner's formula sizes; None for a formula of the
    spec's own, whose bounds only Batch's evaluation knows."""
    scale = pool.auto_scale
    if scale is None or scale.max is None:
        return None
    return scale.min or 0, scale.max


def describe(pool: Pool) -> str | None:
    """What the plan says of an autoscaled pool's size."""
    scale = pool.auto_scale
    if scale is None:
        return None
    every = f"evaluated every {_short(scale.interval)}"
    if scale.formula is not None:
        return f"autoscaled by its formula, {every}"
    kind = "low-priority" if scale.low_priority else "dedicated"
    nodes = f"{scale.min or 0} to {scale.max} {kind} nodes"
    return f"autoscaled: {nodes} for its pending tasks, {every}"


def _short(value: timedelta) -> str:
    return iso_duration(value).removeprefix("PT").lower()
