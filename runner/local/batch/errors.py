"""Batch error codes in one table, and the one exception the handlers raise.

Codes, statuses and messages follow the Batch service's "Batch status and error codes"
page and the BatchError schema of azure-rest-api-specs (specification/batch/data-plane):
a body ``{"odata.metadata", "code", "message": {"lang", "value"}, "values": [{"key",
"value"}]}`` whose message ends with ``RequestId:`` and ``Time:`` lines, as Batch writes it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

# code -> (HTTP status, message)
ERRORS: dict[str, tuple[int, str]] = {
    "AuthenticationFailed": (
        403,
        "Server failed to authenticate the request. Make sure the value of Authorization "
        "header is correctly formed including the signature.",
    ),
    "MissingRequiredHeader": (
        400,
        "An HTTP header that's mandatory for this request is not specified.",
    ),
    "MissingRequiredQueryParameter": (
        400,
        "A query parameter that's mandatory for this request is not specified.",
    ),
    "InvalidQueryParameterValue": (
        400,
        "Value for one of the query parameters specified in the request URI is invalid.",
    ),
    "InvalidRequestBody": (400, "The specified Request Body is not syntactically valid."),
    "MissingRequiredProperty": (400, "A required property was not specified in the request body."),
    "InvalidPropertyValue": (
        400,
        "The value provided for one of the properties in the request body is invalid.",
    ),
    "RequestBodyTooLarge": (
        413,
        "The request body is too large and exceeds the maximum permissible limit.",
    ),
    "PoolExists": (409, "The specified pool already exists."),
    "PoolNotFound": (404, "The specified pool does not exist."),
    "PoolBeingDeleted": (
        409,
        "The specified pool has been marked for deletion and is being reclaimed.",
    ),
    "PoolNotSteady": (409, "The specified pool is not in steady state."),
    "AutoScalingFormulaSyntaxError": (
        400,
        "The specified auto-scaling formula has a syntax error.",
    ),
    "JobExists": (409, "The specified job already exists."),
    "JobNotFound": (404, "The specified job does not exist."),
    "JobBeingDeleted": (
        409,
        "The specified job has been marked for deletion and is being garbage collected.",
    ),
    "JobCompleted": (409, "The specified job is already in a completed state."),
    "JobBeingTerminated": (409, "The specified job is being terminated."),
    "JobNotActive": (409, "The specified job is not active."),
    "ApplicationNotFound": (404, "The specified application does not exist."),
    "JobScheduleNotFound": (404, "The specified job schedule does not exist."),
    "OperationNotValidOnNode": (409, "The specified operation is not valid on the node."),
    "NodeUserNotFound": (404, "The specified node user does not exist."),
    "NodeUserExists": (409, "The specified node user already exists."),
    "TaskNotFailed": (409, "The specified task did not fail."),
    "TaskExists": (409, "The specified task already exists."),
    "TaskNotFound": (404, "The specified task does not exist."),
    "TaskCompleted": (409, "The specified task is already completed."),
    "TaskDependenciesNotSpecifiedOnJob": (
        409,
        "The specified job does not have task dependencies enabled.",
    ),
    "NodeNotFound": (404, "The specified node does not exist."),
    "FileNotFound": (404, "The specified file does not exist."),
    "OperationNotValidAtThisTime": (409, "The operation is not valid at this time."),
    "ConditionNotMet": (
        412,
        "The condition specified using HTTP conditional header(s) is not met.",
    ),
    "ResourceNotFound": (404, "The specified resource does not exist."),
    "UnsupportedHttpVerb": (405, "The resource doesn't support the specified HTTP verb."),
    "InternalServerError": (
        500,
        "Server encountered an internal error. Please try the request again.",
    ),
    "ServerBusy": (
        503,
        "The server is currently unable to receive requests. Please retry your request.",
    ),
}


class BatchServiceError(Exception):
    """A Batch error answer: raised by state and handlers, rendered by the app."""

    def __init__(self, code: str, message: str | None = None, **values: Any) -> None:
        status, default = ERRORS[code]
        super().__init__(message or default)
        self.code = code
        self.status = status
        self.message = message or default
        self.values = {k: str(v) for k, v in values.items() if v is not None}

    def body(self, base_url: str, request_id: str | None = None) -> dict[str, Any]:
        return error_body(self.code, self.message, base_url, request_id, self.values)


def error_body(
    code: str,
    message: str,
    base_url: str,
    request_id: str | None = None,
    values: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Batch's error document; ``base_url`` is the account URL without a trailing slash."""
    request_id = request_id or str(uuid.uuid4())
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    body: dict[str, Any] = {
        "odata.metadata": (
            f"{base_url}/$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
        ),
        "code": code,
        "message": {"lang": "en-US", "value": f"{message}\nRequestId:{request_id}\nTime:{now}"},
    }
    if values:
        body["values"] = [{"key": k, "value": v} for k, v in values.items()]
    return body
