"""The property checks every Batch request body goes through, with Batch's error codes
(MissingRequiredProperty, InvalidPropertyValue)."""

from __future__ import annotations

import re
from typing import Any

from runner.local.batch.errors import BatchServiceError
from runner.local.batch.wire import parse_duration

# Batch ids: letters, digits, hyphens and underscores, at most 64 of them.
ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def require(body: dict[str, Any], *names: str) -> None:
    for name in names:
        value: Any = body
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value in (None, ""):
            raise BatchServiceError("MissingRequiredProperty", PropertyName=name.rsplit(".", 1)[-1])


def check_id(value: str, name: str = "id") -> None:
    if not ID.match(value):
        raise BatchServiceError(
            "InvalidPropertyValue",
            PropertyName=name,
            PropertyValue=value,
            Reason="The id can contain any combination of alphanumeric characters including "
            "hyphens and underscores, and cannot contain more than 64 characters.",
        )


def number(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    """An integer property within ``[low, high]``, or ``InvalidPropertyValue``."""
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BatchServiceError(
            "InvalidPropertyValue",
            PropertyName=name,
            PropertyValue=str(value),
            Reason=f"The value must be between {low} and {high}.",
        )
    return value


def duration(body: dict[str, Any], name: str) -> None:
    """Checks an ISO 8601 duration property such as ``maxWallClockTime``."""
    value = body.get(name)
    try:
        if value is not None:
            parse_duration(str(value))
    except ValueError:
        raise BatchServiceError(
            "InvalidPropertyValue", PropertyName=name, PropertyValue=str(value)
        ) from None
