"""The emulator's own admin API (health, faults, counters), served under ``/_runner``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, request

from runner.local.faults import ADMIN_PREFIX, parse_rules

if TYPE_CHECKING:
    from runner.local.context import ServiceContext


def admin_blueprint(
    ctx: ServiceContext, on_docker_switch: Callable[[], None] | None = None
) -> Blueprint:
    bp = Blueprint("runner_admin", __name__, url_prefix=ADMIN_PREFIX)

    @bp.get("/health")
    def health() -> Response:
        return jsonify({"ok": True, "pid": os.getpid(), "instance": ctx.settings.instance_id})

    @bp.put("/docker")
    def put_docker() -> Response | tuple[Response, int]:
        """The caller's Docker variables; the engine changes only if the current one is
        down (``ServiceContext.use_docker``)."""
        body = request.get_json(force=True) or {}
        environment = body.get("environment")
        if not isinstance(environment, dict) or not all(
            isinstance(v, str) for v in environment.values()
        ):
            message = 'expected {"environment": {"DOCKER_HOST": ...}}'
            return jsonify({"error": {"code": "InvalidDockerEnvironment", "message": message}}), 400
        before = ctx.docker_host
        in_use = ctx.use_docker(environment)
        if ctx.docker_host != before and on_docker_switch is not None:
            on_docker_switch()
        return jsonify({"host": ctx.docker_host, "in_use": in_use})

    @bp.get("/faults")
    def get_faults() -> Response:
        return jsonify({"rules": ctx.faults.rules()})

    @bp.put("/faults")
    def put_faults() -> Response | tuple[Response, int]:
        try:
            rules = parse_rules(request.get_json(force=True))
        except (ValueError, TypeError) as exc:
            return jsonify({"error": {"code": "InvalidFaultRule", "message": str(exc)}}), 400
        ctx.faults.set_rules(rules)
        return jsonify({"rules": ctx.faults.rules()})

    @bp.delete("/faults")
    def clear_faults() -> tuple[str, int]:
        ctx.faults.set_rules([])
        return "", 204

    @bp.get("/counters")
    def get_counters() -> Response:
        return jsonify(ctx.faults.counters())

    @bp.delete("/counters")
    def reset_counters() -> tuple[str, int]:
        ctx.faults.reset_counters()
        return "", 204

    @bp.get("/transitions")
    def get_transitions() -> Response:
        return jsonify(ctx.progressions.as_dict())

    @bp.put("/transitions")
    def put_transitions() -> Response | tuple[Response, int]:
        try:
            ctx.progressions.set_from(request.get_json(force=True) or {})
        except (ValueError, TypeError) as exc:
            return jsonify({"error": {"code": "InvalidProgression", "message": str(exc)}}), 400
        return jsonify(ctx.progressions.as_dict())

    return bp
