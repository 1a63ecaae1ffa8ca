"""The Batch data-plane app: routes, shared-key and api-version checks, error bodies.

``create_batch_app(ctx)`` also starts the account's state flusher and scheduler; both stop
through ``ctx.shutdown_hooks`` when the emulator stops.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from runner.local.batch.auth import check_api_version, verify
from runner.local.batch.errors import BatchServiceError
from runner.local.batch.http import base_url, error
from runner.local.batch.routes import ROUTES
from runner.local.batch.scheduler import Scheduler
from runner.local.batch.state import BatchState
from runner.local.identity import IDENTITY_EXTENSION

if TYPE_CHECKING:
    from runner.local.context import ServiceContext

ADMIN_PREFIX = "/_runner"
log = logging.getLogger("runner.local.batch")


class BatchService:
    """The account's state and scheduler, shared by the app's handlers."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.state_dir = Path(ctx.state_dir)
        self.account = ctx.settings.batch_account
        self.key = ctx.settings.batch_key
        self.state = BatchState(ctx.store, self.account, ctx.settings.subscription)
        self.scheduler = Scheduler(self.state, self.state_dir, getattr(ctx, "progressions", None))

    def start(self) -> None:
        self.state.start()
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.stop()
        self.state.stop()


def create_batch_app(ctx: ServiceContext) -> Flask:
    app = Flask("runner-batch")
    service = BatchService(ctx)
    app.extensions["runner.batch"] = service
    for number, (rule, methods, handler) in enumerate(ROUTES):
        app.add_url_rule(rule, f"{handler.__name__}_{number}", handler, methods=list(methods))

    @app.before_request
    def authenticate() -> None:
        if request.path.startswith(ADMIN_PREFIX):
            return
        raw_uri = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") \
            or request.full_path
        verify(request.method, raw_uri, dict(request.headers), service.account, service.key,
               app.extensions.get(IDENTITY_EXTENSION))
        check_api_version(request.args)
        if not service.state.base_url:
            service.state.base_url = base_url()

    @app.errorhandler(BatchServiceError)
    def batch_error(err: BatchServiceError) -> Response:
        return error(err)

    @app.errorhandler(Exception)
    def internal_error(err: Exception) -> Response:
        if isinstance(err, HTTPException):
            return http_error(err)
        log.exception("Batch request failed: %s %s", request.method, request.path)
        return error(BatchServiceError("InternalServerError"))

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        if err.code == 405:
            return error(BatchServiceError("UnsupportedHttpVerb"))
        if err.code == 404:
            return error(BatchServiceError("ResourceNotFound"))
        return error(BatchServiceError("InvalidRequestBody"))

    service.start()
    ctx.shutdown_hooks.append(service.stop)
    return app
