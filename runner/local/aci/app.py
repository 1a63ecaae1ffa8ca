"""The ARM app: resource groups and Microsoft.ContainerInstance container groups."""

from __future__ import annotations

import os
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from runner.local.aci.handlers import Handlers
from runner.local.aci.location import LocationHandlers
from runner.local.aci.provisioning import Provisioner
from runner.local.aci.routes import bind
from runner.local.aci.runtime import GroupRuntime
from runner.local.aci.state import ContainerGroups
from runner.local.arm.errors import ArmError, arm_error
from runner.local.arm.provider_handlers import providers_blueprint
from runner.local.arm.providers import Providers
from runner.local.arm.request import (
    CanonicalPaths,
    check_api_version,
    check_bearer,
    json_response,
    unauthorized_response,
)
from runner.local.arm.resource_group_handlers import resource_group_blueprint
from runner.local.arm.resource_groups import ResourceGroups
from runner.local.arm.resources import resources_blueprint
from runner.local.context import ServiceContext
from runner.local.faults import ADMIN_PREFIX
from runner.local.identity import Identity

WORKERS = 32
# Headers ARM sends with every answer.
ARM_HEADERS = {
    "Cache-Control": "no-cache",
    "Pragma": "no-cache",
    "Expires": "-1",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
# Errors that ARM answers before a resource provider sees the request.
GATEWAY_CODES = frozenset(
    {
        "AuthenticationFailed",
        "MissingApiVersionParameter",
        "NoRegisteredProviderFound",
        "InvalidApiVersionParameter",
        "ResourceGroupNotFound",
        "InvalidResourceNamespace",
        "SubscriptionNotFound",
        "InvalidResourceType",
    }
)


_PROVIDER_TYPE = re.compile(
    r"^(?:/subscriptions/[^/]+(?:/resourceGroups/[^/]+)?)?/providers/"
    r"Microsoft\.ContainerInstance/([^/]+)"
)
_ACI_TYPES = {"containerGroups", "locations", "operations", "serviceAssociationLinks"}


def _not_found() -> ArmError:
    """ARM's answer to a path no route serves: an unknown type of a known namespace is
    InvalidResourceType, anything else NotFound."""
    match = _PROVIDER_TYPE.match(request.path)
    if match and match.group(1) not in _ACI_TYPES:
        return arm_error(
            "InvalidResourceType",
            type=match.group(1),
            namespace="Microsoft.ContainerInstance",
            version=request.args.get("api-version", ""),
        )
    return arm_error("NotFound", path=request.path)


def create_arm_app(
    ctx: ServiceContext, runtime: GroupRuntime | None = None, identity: Identity | None = None
) -> Flask:
    """The ARM API on ``runtime`` (Docker unless given; ``InstantRuntime`` for shape tests);
    with ``identity``, bearer tokens that are JWTs are checked as that platform's."""
    if runtime is None:
        from runner.local.containers import DockerRuntime

        runtime = DockerRuntime(ctx)
    # Poll hint on every long-running answer: without one, SDK pollers wait 30 s.
    retry_after = os.environ.get("RUNNER_LOCAL_RETRY_AFTER", "1")
    app = Flask("runner_arm")
    app.wsgi_app = CanonicalPaths(app.wsgi_app)  # type: ignore[method-assign]
    workers = ThreadPoolExecutor(WORKERS, thread_name_prefix="arm-worker")
    ctx.shutdown_hooks.append(lambda: workers.shutdown(wait=False, cancel_futures=True))
    resource_groups = ResourceGroups(ctx.store, workers)
    work = Provisioner(
        ctx.store,
        runtime,
        workers,
        faults=ctx.faults,
        progressions=ctx.progressions,
        stopping=ctx.stopping,
    )
    groups = ContainerGroups(ctx.store, runtime, resource_groups, work)
    app.register_blueprint(resource_group_blueprint(resource_groups, retry_after))
    app.register_blueprint(providers_blueprint(Providers(ctx.store), ctx.settings.subscription))
    app.register_blueprint(resources_blueprint(resource_groups, [groups.list]))

    versions: dict[str, tuple[str, ...]] = {}
    for rule, method, endpoint, view, supported in bind(
        Handlers(groups, retry_after), LocationHandlers(groups)
    ):
        app.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
        versions[endpoint] = supported

    @app.before_request
    def arm_checks() -> None:
        if request.path.startswith(ADMIN_PREFIX):
            return
        check_bearer(identity)
        supported = versions.get(request.endpoint or "")
        if supported is not None:
            check_api_version(supported, "containerGroups")

    @app.after_request
    def request_ids(response: Response) -> Response:
        if request.path.startswith(ADMIN_PREFIX):
            return response
        # ARM stamps every answer (keeping a caller's correlation id); clients log these ids.
        request_id = str(uuid.uuid4())
        response.headers.setdefault("x-ms-request-id", request_id)
        response.headers.setdefault(
            "x-ms-correlation-request-id",
            request.headers.get("x-ms-correlation-request-id", request_id),
        )
        response.headers.setdefault("x-ms-routing-request-id", f"LOCAL:{request_id}")
        for name, value in ARM_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.method == "DELETE":
            response.headers.setdefault("x-ms-ratelimit-remaining-subscription-deletes", "14999")
        elif request.method in ("PUT", "POST", "PATCH"):
            response.headers.setdefault("x-ms-ratelimit-remaining-subscription-writes", "1199")
        else:
            response.headers.setdefault("x-ms-ratelimit-remaining-subscription-reads", "11999")
        return response

    @app.errorhandler(ArmError)
    def arm_failure(error: ArmError) -> Response:
        if error.status == 401:
            response = unauthorized_response(error, identity)
        else:
            response = json_response(error.body(), error.status)
        if error.code in GATEWAY_CODES:
            # ARM itself (not the provider) refused: Azure says so in this header.
            response.headers["x-ms-failure-cause"] = "gateway"
        return response

    @app.errorhandler(HTTPException)
    def http_failure(error: HTTPException) -> Response:
        if error.code == 405:
            failure = arm_error("MethodNotAllowed", method=request.method, path=request.path)
        elif error.code == 404:
            failure = _not_found()
        else:
            failure = ArmError(
                error.code or 500, error.name.replace(" ", ""), error.description or error.name
            )
        return json_response(failure.body(), failure.status)

    groups.resume()
    threading.Thread(target=groups.watch, name="aci-watch", daemon=True).start()
    return app
