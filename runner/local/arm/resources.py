"""ARM's generic resource lists: ``GET /subscriptions/{sub}/resources`` and
``.../resourceGroups/{rg}/resources`` (Microsoft.Resources ``resources.json``,
Resources_List and Resources_ListByResourceGroup), with their ``$filter`` on
``resourceType`` and on tags. Providers register a lister for their resources."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, request

from runner.local.arm.errors import arm_error
from runner.local.arm.request import (
    RESOURCES_VERSIONS,
    check_api_version,
    json_response,
    paged,
)
from runner.local.arm.resource_groups import ResourceGroups

# (subscription, resource group or None) -> the generic view of each resource.
Lister = Callable[[str, str | None], list[dict[str, Any]]]
_CLAUSE = re.compile(r"^(resourceType|tagName|tagValue|name)\s+eq\s+'([^']*)'$", re.IGNORECASE)


def generic(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource as the generic lists show it: identity, placement and tags."""
    return {
        k: resource[k]
        for k in ("id", "name", "type", "location", "identity", "zones", "tags")
        if resource.get(k) is not None
    }


def _matches(resource: dict[str, Any], odata: str) -> bool:
    tags = {k.lower(): v for k, v in (resource.get("tags") or {}).items()}
    tag_name = None
    for clause in re.split(r"\s+and\s+", odata.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.match(clause.strip())
        if match is None:
            raise arm_error("InvalidFilterInQueryString", filter=odata)
        field, value = match.group(1).lower(), match.group(2)
        if field == "resourcetype" and str(resource.get("type", "")).lower() != value.lower():
            return False
        if field == "name" and str(resource.get("name", "")).lower() != value.lower():
            return False
        if field == "tagname":
            tag_name = value.lower()
            if tag_name not in tags:
                return False
        if field == "tagvalue" and (tag_name is None or tags.get(tag_name) != value):
            return False
    return True


def resources_blueprint(groups: ResourceGroups, listers: list[Lister]) -> Blueprint:
    bp = Blueprint("resources", __name__)

    @bp.before_request
    def versions() -> None:
        check_api_version(RESOURCES_VERSIONS, "resources", code="InvalidApiVersionParameter")

    def answer(sub: str, rg: str | None) -> Response:
        items = [generic(r) for lister in listers for r in lister(sub, rg)]
        odata = request.args.get("$filter")
        if odata:
            items = [r for r in items if _matches(r, odata)]
        return json_response(paged(items))

    @bp.route("/subscriptions/<sub>/resources", methods=["GET"])
    def list_resources(sub: str) -> Response:
        return answer(sub, None)

    @bp.route("/subscriptions/<sub>/resourceGroups/<rg>/resources", methods=["GET"])
    def list_group_resources(sub: str, rg: str) -> Response:
        groups.require(sub, rg)
        return answer(sub, rg)

    return bp
