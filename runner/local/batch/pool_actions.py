"""Pool auto-scale, node removal and usage metrics, answered as Azure's recorded traffic shows.

Formulas are Batch's autoscale language (``autoscale_formula``). Enabling autoscale checks
the formula and stores it; the scheduler evaluates it at its interval (``autoscale``). An
evaluation asked for answers an ``AutoScaleRun`` over the pool's samples so far, its
results listing ``$TargetDedicatedNodes``, ``$TargetLowPriorityNodes`` and
``$NodeDeallocationOption`` first
(``$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue``).
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response

from runner.local.batch import pools
from runner.local.batch.autoscale import run_error
from runner.local.batch.autoscale_formula import FormulaError, check_formula, evaluate
from runner.local.batch.errors import BatchServiceError
from runner.local.batch.http import action, body, ok
from runner.local.batch.service import BatchService
from runner.local.batch.wire import format_duration, now_iso, parse_duration, set_state, touch

Doc = dict[str, Any]


def _interval(value: Any) -> str:
    seconds = parse_duration(str(value)) if value else 15 * 60
    if seconds is None or not 300 <= seconds <= 168 * 3600:
        raise BatchServiceError(
            "InvalidPropertyValue",
            PropertyName="autoScaleEvaluationInterval",
            PropertyValue=str(value),
            Reason="The value must be between 5 minutes and 168 hours.",
        )
    return format_duration(seconds)


def enable_auto_scale(batch: BatchService, pool_id: str) -> Response:
    request_body = body()
    with batch.state.lock:
        doc = pools.get_pool(batch.state, pool_id)
        if doc["state"] == "deleting":
            raise BatchServiceError("PoolBeingDeleted")
        formula = request_body.get("autoScaleFormula") or doc.get("autoScaleFormula")
        if not formula:
            raise BatchServiceError("MissingRequiredProperty", PropertyName="autoScaleFormula")
        check_formula(formula)
        # A new interval (or autoscale newly enabled) starts a new evaluation schedule.
        restart = not doc.get("enableAutoScale") or bool(
            request_body.get("autoScaleEvaluationInterval")
        )
        doc["enableAutoScale"] = True
        doc["autoScaleFormula"] = formula
        doc["autoScaleEvaluationInterval"] = _interval(
            request_body.get("autoScaleEvaluationInterval")
            or doc.get("autoScaleEvaluationInterval")
        )
        touch(doc)
        batch.state.save_pool(doc)
        if restart:
            interval = doc["autoScaleEvaluationInterval"]
            batch.scheduler.autoscaler.enabled(doc["id"], time.time(), interval)
        return action(200, dict(doc))


def disable_auto_scale(batch: BatchService, pool_id: str) -> Response:
    with batch.state.lock:
        doc = pools.get_pool(batch.state, pool_id)
        doc["enableAutoScale"] = False
        for key in ("autoScaleFormula", "autoScaleEvaluationInterval", "autoScaleRun"):
            doc.pop(key, None)
        touch(doc)
        batch.state.save_pool(doc)
        batch.scheduler.autoscaler.forget(doc["id"])
        return action(200, dict(doc))


def evaluate_auto_scale(batch: BatchService, pool_id: str) -> Response:
    formula = body().get("autoScaleFormula")
    if not formula:
        raise BatchServiceError("MissingRequiredProperty", PropertyName="autoScaleFormula")
    check_formula(formula)
    with batch.state.lock:
        doc = pools.get_pool(batch.state, pool_id)
        inputs = batch.scheduler.autoscaler.evaluation_inputs(batch.state, doc, time.time())
    run: Doc = {"timestamp": now_iso()}
    try:
        run["results"] = evaluate(formula, inputs).results
    except FormulaError as err:
        run["error"] = run_error(str(err))
    response = ok(run, "Microsoft.Azure.Batch.Protocol.Entities.AutoScaleRun")
    response.headers["DataServiceId"] = action(200).headers["DataServiceId"]
    return response


def remove_nodes(batch: BatchService, pool_id: str) -> Response:
    request_body = body()
    node_ids = request_body.get("nodeList")
    if not isinstance(node_ids, list) or not node_ids:
        raise BatchServiceError("MissingRequiredProperty", PropertyName="nodeList")
    with batch.state.lock:
        doc = pools.get_pool(batch.state, pool_id)
        if doc["allocationState"] != "steady":
            raise BatchServiceError("PoolNotSteady")
        nodes = batch.state.nodes.get(doc["id"], {})
        missing = [n for n in node_ids if n not in nodes]
        if missing:
            raise BatchServiceError("NodeNotFound", NodeId=missing[0])
        record = batch.state.pool_runtime(doc["id"])
        record.remove = list(node_ids)
        record.deallocation = request_body.get("nodeDeallocationOption") or "requeue"
        doc["targetDedicatedNodes"] = max(0, doc["targetDedicatedNodes"] - len(node_ids))
        set_state(doc, "resizing", "allocationState")
        touch(doc)
        batch.state.save_pool(doc)
        batch.state.notify()
        return action(202, dict(doc))


def list_usage_metrics(batch: BatchService) -> Response:
    # Usage is reported per hour of VM time; local nodes cost nothing, so none is listed.
    return ok({"value": []}, "poolusagemetrics")
