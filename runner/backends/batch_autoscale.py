"""How a Batch pool is sized: fixed node counts, or an autoscale formula Batch evaluates.

Batch takes either on a new pool, never both: an autoscaled pool is made with
``enableAutoScale``, its formula and interval, and no target counts. An existing pool
switches by enabling autoscale (which also replaces a formula or interval) or by
disabling it and resizing; a fixed pool is resized only when its counts differ.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from azure.batch import models as bm
from azure.core.exceptions import HttpResponseError

from runner.backends.errors import error_code, translate
from runner.errors import TemporaryError
from runner.plan.autoscale import iso_duration
from runner.plan.batch_desired import DesiredBatch

if TYPE_CHECKING:
    from azure.batch import BatchClient

AUTOSCALE_SELECT = ["id", "enableAutoScale", "autoScaleFormula", "autoScaleEvaluationInterval"]
# A pool still resizing (the last evaluation's targets) takes no resize yet.
NOT_STEADY = frozenset({"PoolNotSteady"})


def _interval(text: str) -> timedelta:
    """``PT5M``, ``PT1H30M``, ``PT45S``: the canonical form ``iso_duration`` writes."""
    seconds, number = 0, ""
    for char in text.removeprefix("PT"):
        if char.isdigit():
            number += char
            continue
        seconds += int(number) * {"H": 3600, "M": 60, "S": 1}[char]
        number = ""
    return timedelta(seconds=seconds)


def create_sizing(desired: DesiredBatch) -> dict[str, Any]:
    """The keyword arguments of ``BatchPoolCreateOptions`` that size the new pool."""
    scale = desired.pool.get("autoScale")
    if scale is None:
        pool = desired.spec.pool
        return {
            "target_dedicated_nodes": pool.nodes,
            "target_low_priority_nodes": pool.low_priority_nodes,
        }
    return {
        "enable_auto_scale": True,
        "auto_scale_formula": scale["formula"],
        "auto_scale_evaluation_interval": _interval(scale["evaluationInterval"]),
    }


def observed_auto_scale(pool: bm.BatchPool) -> dict[str, Any] | None:
    """An autoscaled pool's formula and interval, as the canonical form holds them."""
    if not pool.enable_auto_scale:
        return None
    interval = pool.auto_scale_evaluation_interval
    return {
        "formula": pool.auto_scale_formula,
        "evaluationInterval": iso_duration(interval) if interval is not None else None,
    }


def resize(client: BatchClient, desired: DesiredBatch, nodes: int | None) -> None:
    """Sizes an existing pool as the spec says. ``nodes``: its dedicated target when the
    plan read it (None for an autoscaled pool)."""
    pool_id = desired.spec.pool.id
    scale = desired.pool.get("autoScale")
    try:
        live = client.get_pool(pool_id, select=AUTOSCALE_SELECT)
        if scale is not None:
            if observed_auto_scale(live) != scale:
                options = bm.BatchPoolEnableAutoScaleOptions(
                    auto_scale_formula=scale["formula"],
                    auto_scale_evaluation_interval=_interval(scale["evaluationInterval"]),
                )
                client.enable_pool_auto_scale(pool_id, options)
            return
        if live.enable_auto_scale:
            client.disable_pool_auto_scale(pool_id)
            nodes = None  # whatever the formula last asked for, the spec's counts now
        pool = desired.spec.pool
        if nodes != pool.nodes:
            counts = bm.BatchPoolResizeOptions(
                target_dedicated_nodes=pool.nodes,
                target_low_priority_nodes=pool.low_priority_nodes,
            )
            client.begin_resize_pool(pool_id, counts, polling_interval=1)
    except HttpResponseError as exc:
        if error_code(exc) in NOT_STEADY:
            raise TemporaryError(f"PoolNotSteady: {pool_id} is still resizing", delay=2.0) from exc
        raise translate(exc) from exc
    except Exception as exc:
        raise translate(exc) from exc
