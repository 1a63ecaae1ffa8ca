"""ARM's subscription and resource-provider operations (state: ``providers``)."""

from __future__ import annotations

import re

from flask import Blueprint, Response

from runner.local.arm.errors import arm_error
from runner.local.arm.providers import (
    SERVED,
    SUBSCRIPTION_VERSIONS,
    Providers,
    subscription_body,
)
from runner.local.arm.request import check_api_version, json_response, paged

_NAMESPACE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$")


def _namespace(namespace: str) -> str:
    if not _NAMESPACE.match(namespace):
        raise arm_error("InvalidResourceNamespace", namespace=namespace)
    return namespace


def providers_blueprint(providers: Providers, default_subscription: str) -> Blueprint:
    bp = Blueprint("subscriptions", __name__)

    @bp.before_request
    def versions() -> None:
        check_api_version(SUBSCRIPTION_VERSIONS, "subscriptions", code="InvalidApiVersionParameter")

    @bp.route("/subscriptions", methods=["GET"])
    def list_subscriptions() -> Response:
        page = paged([subscription_body(default_subscription)])
        page["count"] = {"type": "Total", "value": 1}
        return json_response(page)

    @bp.route("/subscriptions/<sub>", methods=["GET"])
    def get_subscription(sub: str) -> Response:
        return json_response(subscription_body(sub))

    @bp.route("/subscriptions/<sub>/providers", methods=["GET"])
    def list_providers(sub: str) -> Response:
        return json_response(paged([providers.body(sub, n) for n in providers.known(sub)]))

    @bp.route("/subscriptions/<sub>/providers/<namespace>", methods=["GET"])
    def get_provider(sub: str, namespace: str) -> Response:
        return json_response(providers.body(sub, _namespace(namespace)))

    def change(sub: str, namespace: str, done: str, moving: str) -> Response:
        # The answer shows the change under way (Registering), as ARM's does; it is done by
        # the next read.
        name = _namespace(SERVED.get(namespace.lower(), namespace))
        before = providers.state(sub, name)
        providers.set_state(sub, name, done)
        body = providers.body(sub, name)
        if before != done:
            body["registrationState"] = moving
        return json_response(body)

    @bp.route("/subscriptions/<sub>/providers/<namespace>/register", methods=["POST"])
    def register(sub: str, namespace: str) -> Response:
        return change(sub, namespace, "Registered", "Registering")

    @bp.route("/subscriptions/<sub>/providers/<namespace>/unregister", methods=["POST"])
    def unregister(sub: str, namespace: str) -> Response:
        return change(sub, namespace, "Unregistered", "Unregistering")

    return bp
