"""The hook that counts an app's requests and answers the faults its rules inject (the
rules and counters themselves: ``faults``), in the API's own error bodies."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request

from runner.local.faults import ADMIN_PREFIX, Api, FaultInjector

_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def route_template(rule: str) -> str:
    """``/a/<sub>/<path:name>`` -> ``/a/{sub}/{name}``."""
    return _VARIABLE.sub(r"{\1}", rule)


def current_template() -> str:
    return route_template(request.url_rule.rule) if request.url_rule else request.path


def arm_error_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def batch_error_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {
        "odata.metadata": f"{request.host_url}$metadata#Microsoft.Azure.Batch.Protocol."
        "Entities.Container.errors/@Element",
        "code": code,
        "message": {"lang": "en-US", "value": message},
    }


ErrorBody = Callable[[int, str, str], dict[str, Any]]
_BODIES: dict[str, ErrorBody] = {"arm": arm_error_body, "batch": batch_error_body}


def _drop_connection() -> None:
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        return
    # A TCP shutdown without a TLS close_notify: the client sees the connection reset
    # mid-request, as when a load balancer drops it. Werkzeug's later write fails quietly.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def install(
    app: Flask, faults: FaultInjector, api: Api, error_body: ErrorBody | None = None
) -> None:
    """Adds counting and fault injection to ``app``; a second call does nothing."""
    if app.extensions.get("runner_faults"):
        return
    app.extensions["runner_faults"] = True
    body_of = error_body or _BODIES[api]

    def before() -> Response | None:
        if request.path.startswith(ADMIN_PREFIX):
            return None
        template = current_template()
        faults.count(request.method, template)
        rule = faults.pick(api, request.method, template, request.path)
        if rule is None:
            return None
        if rule.fault == "latency":
            time.sleep(rule.latency)
            return None
        if rule.fault == "drop":
            _drop_connection()
            return Response(status=500)
        if rule.fault == "429":
            body = body_of(429, "TooManyRequests", "The request is being throttled; retry later.")
            headers = {"Retry-After": _seconds(rule.retry_after)}
            return _json_response(429, body, headers)
        body = body_of(
            500,
            "InternalServerError" if api == "arm" else "InternalError",
            "The server encountered an internal error. Please retry the request.",
        )
        return _json_response(500, body, {})

    app.before_request_funcs.setdefault(None, []).insert(0, before)


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _json_response(status: int, body: dict[str, Any], headers: dict[str, str]) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )
