"""Long-running ARM operations, sent once and polled by the engine.

The SDK's own poller would re-raise a throttled poll as a failure of the whole operation
and tempt a retry of the PUT (which restarts every container). Here the first request is
sent with ``polling=False``, its ``Azure-AsyncOperation`` or ``Location`` header kept, and
each poll is a separate, separately retried GET.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from azure.core.exceptions import AzureError
from azure.core.rest import HttpRequest

from runner.backends.errors import translate

IN_PROGRESS = frozenset({"InProgress", "Accepted", "Running", "Pending", "Creating", "Updating"})


@dataclass(frozen=True)
class Operation:
    """A started operation: where to ask how it is going, and how long to wait first."""

    status_url: str | None  # Azure-AsyncOperation: a JSON body with "status"
    location_url: str | None  # Location: 202 while running, 200/204 when done
    retry_after: float | None
    done: bool  # the first answer already said it is finished (200 or 204)
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class OperationStatus:
    done: bool
    failed: bool = False
    code: str | None = None
    message: str = ""
    retry_after: float | None = None


def send(call: Callable[..., Any]) -> Operation:
    """Run ``begin_*`` with polling off, keeping the first response's headers."""
    seen: dict[str, Any] = {}

    def hook(pipeline_response: Any) -> None:
        seen["response"] = pipeline_response.http_response

    try:
        call(polling=False, raw_response_hook=hook)
    except AzureError as exc:
        raise translate(exc) from exc
    response = seen.get("response")
    if response is None:
        return Operation(None, None, None, done=True)
    headers = response.headers
    status_url = headers.get("Azure-AsyncOperation")
    location_url = headers.get("Location")
    body: dict[str, Any] | None = None
    try:
        parsed = response.json() if response.text() else None
        body = parsed if isinstance(parsed, dict) else None
    except Exception:
        body = None
    done = not status_url and not location_url and response.status_code in (200, 204)
    return Operation(
        status_url=status_url,
        location_url=location_url,
        retry_after=_seconds(headers.get("Retry-After")),
        done=done,
        body=body,
    )


def poll(client: Any, op: Operation) -> OperationStatus:
    """One poll of ``op`` through ``client``'s pipeline (auth, TLS, no SDK retries)."""
    if op.done:
        return OperationStatus(done=True)
    url = op.status_url or op.location_url
    assert url is not None
    try:
        send = getattr(client, "send_request", None) or client._send_request
        response = send(HttpRequest("GET", url))
        response.raise_for_status()
    except AzureError as exc:
        raise translate(exc) from exc
    except Exception as exc:
        raise translate(exc) from exc
    retry = _seconds(response.headers.get("Retry-After"))
    if op.status_url:
        data = response.json() if response.text() else {}
        status = str(data.get("status", "InProgress"))
        if status in IN_PROGRESS or status not in ("Succeeded", "Failed", "Canceled"):
            return OperationStatus(done=False, retry_after=retry)
        error = data.get("error") or {}
        return OperationStatus(
            done=True,
            failed=status != "Succeeded",
            code=error.get("code") or (None if status == "Succeeded" else status),
            message=error.get("message") or "",
        )
    if response.status_code == 202:
        return OperationStatus(done=False, retry_after=retry)
    return OperationStatus(done=True)


def _seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
