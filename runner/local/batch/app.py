"""The Batch data-plane app: routes, shared-key and api-version checks, error bodies.

``create_batch_app(ctx, identity)`` builds the account's ``BatchService`` and hands it to
every handler; it also starts the account's state flusher and scheduler, which stop through
``ctx.shutdown_hooks`` when the emulator stops.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from runner.local.batch.auth import check_api_version, verify
from runner.local.batch.errors import BatchServiceError
from runner.local.batch.http import base_url, error
from runner.local.batch.routes import ROUTES
from runner.local.batch.service import BatchService
from runner.local.identity import Identity

if TYPE_CHECKING:
    from runner.local.context import ServiceContext

ADMIN_PREFIX = "/_runner"
log = logging.getLogger("runner.local.batch")


def create_batch_app(ctx: ServiceContext, identity: Identity | None = None) -> Flask:
    """The account's app; with ``identity``, Entra tokens of that platform are taken too."""
    app = Flask("runner-batch")
    settings = ctx.settings
    service = BatchService(
        ctx.store,
        ctx.state_dir,
        account=settings.batch_account,
        key=settings.batch_key,
        subscription=settings.subscription,
        faults=ctx.faults,
        progressions=ctx.progressions,
        engine=ctx,
        autoscale_speedup=settings.autoscale_speedup,
    )
    for number, (rule, methods, handler) in enumerate(ROUTES):
        view = partial(handler, service)
        app.add_url_rule(rule, f"{handler.__name__}_{number}", view, methods=list(methods))

    @app.before_request
    def authenticate() -> None:
        if request.path.startswith(ADMIN_PREFIX):
            return
        raw_uri = (
            request.environ.get("RAW_URI")
            or request.environ.get("REQUEST_URI")
            or request.full_path
        )
        verify(
            request.method, raw_uri, dict(request.headers), service.account, service.key, identity
        )
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
