"""Pool auto-scale, node removal and usage metrics, answered as Azure's recorded traffic shows.

Auto-scale formulas are evaluated for what clients check: assignments of constants and
simple arithmetic to ``$TargetDedicatedNodes``, ``$TargetLowPriorityNodes`` and
``$NodeDeallocationOption``. The result string lists those three first, as Batch does
(``$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue``).
Enabling auto-scale stores the formula; the emulator does not re-evaluate it on a timer.
"""

from __future__ import annotations

import ast
import operator
import re
from typing import Any

from flask import Response

from runner.local.batch import pools
from runner.local.batch.errors import BatchServiceError
from runner.local.batch.http import action, body, ok
from runner.local.batch.service import BatchService
from runner.local.batch.wire import format_duration, now_iso, parse_duration, set_state, touch

Doc = dict[str, Any]
FIRST = ("TargetDedicatedNodes", "TargetLowPriorityNodes", "NodeDeallocationOption")
_ASSIGN = re.compile(r"^\s*\$(\w+)\s*=\s*(.+?)\s*$", re.DOTALL)
_OPS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _value(node: ast.AST, known: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str):
        return node.value
    if isinstance(node, ast.Name) and node.id in known:
        return known[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_value(node.left, known), _value(node.right, known))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand, known)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("min", "max")
        and node.args
    ):
        return {"min": min, "max": max}[node.func.id](_value(a, known) for a in node.args)
    raise ValueError(ast.dump(node))


def evaluate(formula: str, pool: Doc) -> str:
    known: dict[str, Any] = {
        "TargetDedicatedNodes": pool.get("targetDedicatedNodes", 0),
        "TargetLowPriorityNodes": pool.get("targetLowPriorityNodes", 0),
        "NodeDeallocationOption": "requeue",
    }
    for statement in filter(str.strip, re.split(r"[;\n]", formula)):
        match = _ASSIGN.match(statement)
        try:
            if not match:
                raise ValueError(statement)
            expr = re.sub(r"\$(\w+)", r"\1", match.group(2))
            known[match.group(1)] = _value(ast.parse(expr, mode="eval").body, known)
        except (ValueError, SyntaxError, TypeError, ZeroDivisionError):
            raise BatchServiceError(
                "InvalidPropertyValue",
                PropertyName="autoScaleFormula",
                PropertyValue=formula,
                Reason="The formula is not one the local account can evaluate.",
            ) from None
    shown = [*FIRST, *(k for k in known if k not in FIRST)]
    return ";".join(f"${k}={_text(known[k])}" for k in shown)


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
        evaluate(formula, doc)
        doc["enableAutoScale"] = True
        doc["autoScaleFormula"] = formula
        doc["autoScaleEvaluationInterval"] = _interval(
            request_body.get("autoScaleEvaluationInterval")
            or doc.get("autoScaleEvaluationInterval")
        )
        touch(doc)
        batch.state.save_pool(doc)
        return action(200, dict(doc))


def disable_auto_scale(batch: BatchService, pool_id: str) -> Response:
    with batch.state.lock:
        doc = pools.get_pool(batch.state, pool_id)
        doc["enableAutoScale"] = False
        for key in ("autoScaleFormula", "autoScaleEvaluationInterval", "autoScaleRun"):
            doc.pop(key, None)
        touch(doc)
        batch.state.save_pool(doc)
        return action(200, dict(doc))


def evaluate_auto_scale(batch: BatchService, pool_id: str) -> Response:
    formula = body().get("autoScaleFormula")
    if not formula:
        raise BatchServiceError("MissingRequiredProperty", PropertyName="autoScaleFormula")
    with batch.state.lock:
        doc = pools.get_pool(batch.state, pool_id)
        results = evaluate(formula, doc)
    response = ok(
        {"timestamp": now_iso(), "results": results},
        "Microsoft.Azure.Batch.Protocol.Entities.AutoScaleRun",
    )
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
