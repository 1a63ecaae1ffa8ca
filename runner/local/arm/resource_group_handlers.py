"""ARM's resource-group operations: PUT, PATCH, HEAD, GET, DELETE (with its operation
result) and list with a tag ``$filter``."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, request

from runner.local.arm.errors import arm_error
from runner.local.arm.request import (
    RESOURCES_VERSIONS,
    check_api_version,
    empty_response,
    json_response,
    paged,
    request_json,
)
from runner.local.arm.resource_groups import ResourceGroups

_TAG_FILTER = re.compile(
    r"^\s*tagName\s+eq\s+'([^']*)'(?:\s+and\s+tagValue\s+eq\s+'([^']*)')?\s*$", re.IGNORECASE
)


def _filtered(items: list[dict[str, Any]], odata: str | None) -> list[dict[str, Any]]:
    """The groups a ``$filter`` keeps: ARM filters resource groups by tag name and value."""
    if not odata:
        return items
    match = _TAG_FILTER.match(odata)
    if match is None:
        raise arm_error("InvalidFilterInQueryString", filter=odata)
    name, value = match.group(1).lower(), match.group(2)
    kept = []
    for item in items:
        tags = {k.lower(): v for k, v in (item.get("tags") or {}).items()}
        if name in tags and (value is None or tags[name] == value):
            kept.append(item)
    return kept


def resource_group_blueprint(groups: ResourceGroups, retry_after: str) -> Blueprint:
    bp = Blueprint("resource_groups", __name__)
    base = "/subscriptions/<sub>/resourceGroups/<rg>"

    @bp.before_request
    def versions() -> None:
        check_api_version(RESOURCES_VERSIONS, "resourceGroups", code="InvalidApiVersionParameter")

    @bp.route(base, methods=["PUT"])
    def put_group(sub: str, rg: str) -> Response:
        doc, created = groups.put(sub, rg, request_json())
        return json_response(doc, 201 if created else 200)

    @bp.route(base, methods=["PATCH"])
    def patch_group(sub: str, rg: str) -> Response:
        return json_response(groups.update(sub, rg, request_json()))

    @bp.route(base, methods=["HEAD"])
    def head_group(sub: str, rg: str) -> Response:
        if groups.get(sub, rg):
            return empty_response(204)
        # ARM's 404 to a HEAD is its JSON error with the body left off.
        missing = arm_error("ResourceGroupNotFound", rg=rg)
        return json_response(missing.body(), 404, {"x-ms-failure-cause": "gateway"})

    @bp.route(base, methods=["GET"])
    def get_group(sub: str, rg: str) -> Response:
        return json_response(groups.require(sub, rg))

    @bp.route(base, methods=["DELETE"])
    def delete_group(sub: str, rg: str) -> Response:
        op_id = groups.begin_delete(sub, rg)
        location = (
            f"{request.host_url}subscriptions/{sub}/operationresults/{op_id}"
            f"?api-version={request.args['api-version']}"
        )
        return empty_response(202, {"Location": location, "Retry-After": retry_after})

    @bp.route("/subscriptions/<sub>/resourceGroups", methods=["GET"])
    def list_groups(sub: str) -> Response:
        return json_response(paged(_filtered(groups.list(sub), request.args.get("$filter"))))

    @bp.route("/subscriptions/<sub>/operationresults/<op_id>", methods=["GET"])
    def operation_result(sub: str, op_id: str) -> Response:
        op = groups.operation(op_id)
        if op is None:
            raise arm_error("NotFound", path=request.path)
        if op["status"] == "InProgress":
            return empty_response(202, {"Location": request.url, "Retry-After": retry_after})
        if op["status"] == "Failed":
            return json_response(
                {"error": {"code": "InternalServerError", "message": op.get("error", "")}}, 500
            )
        return empty_response(200)

    return bp
