"""Request parsing and Batch's response shapes (status codes and headers per operation)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Response, g, request

from runner.local.batch import versions
from runner.local.batch.errors import BatchServiceError
from runner.local.batch.wire import http_date

# Batch refuses request bodies over 1 MB ("RequestBodyTooLarge"; Add Task Collection docs).
MAX_BODY = 1024 * 1024
DRAIN_LIMIT = 32 * MAX_BODY
# As Batch sends it (recorded answers of azure-sdk-assets' azure-batch tests).
JSON_TYPE = "application/json; odata=minimalmetadata"


def base_url() -> str:
    return request.host_url.rstrip("/")


def api_version() -> str:
    """The request's api-version (checked before any handler runs)."""
    return request.args.get("api-version") or versions.LATEST


def request_id() -> str:
    if not hasattr(g, "request_id"):
        g.request_id = str(uuid.uuid4())
    return str(g.request_id)


def body(optional: bool = False) -> dict[str, Any]:
    length = request.content_length or 0
    if length > DRAIN_LIMIT:
        raise BatchServiceError("RequestBodyTooLarge")
    # Read even a body that is too large, so the client gets the answer rather than a reset
    # connection while it is still sending.
    data = request.get_data(cache=False)
    if len(data) > MAX_BODY:
        raise BatchServiceError("RequestBodyTooLarge")
    if not data.strip():
        if optional:
            return {}
        raise BatchServiceError("InvalidRequestBody")
    try:
        parsed = json.loads(data)
    except ValueError:
        raise BatchServiceError("InvalidRequestBody") from None
    if not isinstance(parsed, dict):
        raise BatchServiceError("InvalidRequestBody")
    return versions.request_body(parsed, api_version())


def _common(headers: dict[str, str]) -> dict[str, str]:
    headers["request-id"] = request_id()
    headers["DataServiceVersion"] = "3.0"
    # Batch echoes the caller's id only when asked to (``return-client-request-id: true``);
    # azure-batch 15 never asks, and Azure's recorded answers carry no echo.
    client_id = request.headers.get("client-request-id")
    if client_id and request.headers.get("return-client-request-id", "").lower() == "true":
        headers["client-request-id"] = client_id
    return headers


def entity_headers(doc: dict[str, Any]) -> dict[str, str]:
    headers = {}
    if doc.get("eTag"):
        headers["ETag"] = doc["eTag"]
    if doc.get("lastModified"):
        headers["Last-Modified"] = http_date(doc["lastModified"])
    return headers


def ok(
    payload: dict[str, Any], metadata: str | None = None, entity: dict[str, Any] | None = None
) -> Response:
    payload = versions.response_body(payload, api_version())
    if metadata:
        payload = {"odata.metadata": f"{base_url()}/$metadata#{metadata}", **payload}
    headers = _common(entity_headers(entity) if entity else {})
    return Response(json.dumps(payload), status=200, headers=headers, content_type=JSON_TYPE)


def _empty(status: int, headers: dict[str, str]) -> Response:
    """A bodiless answer: Batch sends no Content-Type with it (Flask would add text/html)."""
    response = Response(b"", status=status, headers=headers)
    del response.headers["Content-Type"]
    return response


def created(location: str, entity: dict[str, Any]) -> Response:
    headers = _common({**entity_headers(entity), "Location": location, "DataServiceId": location})
    return _empty(201, headers)


def no_content(
    status: int, location: str | None = None, entity: dict[str, Any] | None = None
) -> Response:
    """202 for deletes and job actions, 200/204 for updates: empty bodies."""
    headers = entity_headers(entity) if entity else {}
    if location:
        headers["DataServiceId"] = location
    return _empty(status, _common(headers))


def action(status: int, entity: dict[str, Any] | None = None) -> Response:
    """An update or action answer: Batch names the URL acted on (``.../jobs/j/terminate``,
    ``.../pools/p/updateproperties``) as ``DataServiceId``, with the entity's new eTag."""
    return no_content(status, f"{base_url()}{request.path}", entity)


def preconditions(doc: dict[str, Any]) -> Response | None:
    """``If-Match``/``If-None-Match`` against the entity's eTag: 412, or 304 on reads."""
    etag = doc.get("eTag", "")
    if_match = request.headers.get("If-Match")
    if if_match and if_match != "*" and if_match.strip('"') != etag:
        raise BatchServiceError("ConditionNotMet")
    if_none = request.headers.get("If-None-Match")
    if if_none and (if_none == "*" or if_none.strip('"') == etag):
        if request.method in ("GET", "HEAD"):
            return _empty(304, _common(entity_headers(doc)))
        raise BatchServiceError("ConditionNotMet")
    return None


def error(err: BatchServiceError) -> Response:
    payload = err.body(base_url(), request_id())
    headers = _common({})
    return Response(json.dumps(payload), status=err.status, headers=headers, content_type=JSON_TYPE)
