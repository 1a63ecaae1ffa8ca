"""Azure SDK exceptions translated once, into the runner's two kinds of failure.

408, 429, 5xx, dropped connections and the 409 codes that mean "busy, try again" become
``TemporaryError`` (delay from ``Retry-After`` when Azure sends one); other 4xx become
``PermanentError`` carrying Azure's code and message. Anything else is a bug.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

from azure.core.exceptions import (
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from runner.errors import PermanentError, RunnerError, TemporaryError

# 409s that only say another operation is still running on the resource.
BUSY_CODES = frozenset(
    {
        "ContainerGroupTransitioning",
        "AnotherOperationInProgress",
        "ResourceGroupBeingDeleted",
        "OperationNotAllowedWhileTransitioning",
    }
)


def translate(exc: BaseException) -> RunnerError:
    if isinstance(exc, RunnerError):
        return exc
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return TemporaryError(f"connection failed: {_first_line(exc)}", code="ConnectionError")
    if isinstance(exc, HttpResponseError):
        status = exc.status_code or 0
        code = error_code(exc)
        message = _message(exc)
        head = f"{status} {code}" if code else f"HTTP {status}"
        text = f"{head}: {message}" if message else head
        if status in (408, 429) or status >= 500 or (status == 409 and code in BUSY_CODES):
            return TemporaryError(text, delay=retry_after(exc), code=code or str(status))
        return PermanentError(text, code=code, status=status or None)
    if isinstance(exc, ConnectionError | TimeoutError):
        return TemporaryError(f"connection failed: {_first_line(exc)}", code="ConnectionError")
    raise exc


def is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, HttpResponseError) and exc.status_code == 404


def error_code(exc: HttpResponseError) -> str | None:
    if exc.error is not None and exc.error.code:
        return str(exc.error.code)
    response: Any = exc.response
    if response is not None:
        header = response.headers.get("x-ms-error-code")
        if header:
            return str(header)
        try:
            body = response.json()
        except Exception:
            return None
        if isinstance(body, dict):
            err = body.get("error", body)
            if isinstance(err, dict) and err.get("code"):
                return str(err["code"])
    return None


def retry_after(exc: HttpResponseError) -> float | None:
    """Seconds from ``Retry-After`` (delta or HTTP date) or ``retry-after-ms``."""
    response: Any = exc.response
    if response is None:
        return None
    headers = response.headers
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                pass
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _message(exc: HttpResponseError) -> str:
    if exc.error is not None and exc.error.message:
        return str(exc.error.message)
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
