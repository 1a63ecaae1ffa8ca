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


CONTAINER_TYPES = {"dockercompatible": "dockerCompatible", "cricompatible": "criCompatible"}
WORKING_DIRECTORIES = {
    "taskworkingdirectory": "taskWorkingDirectory",
    "containerimagedefault": "containerImageDefault",
}
BIND_SOURCES = {
    s.lower(): s for s in ("Shared", "Startup", "VfsMounts", "Task", "JobPrep", "Applications")
}


def _enum(value: Any, known: dict[str, str], name: str) -> str:
    """An enum property in the spec's spelling (Batch takes any casing of it)."""
    spelled = known.get(str(value).lower()) if isinstance(value, str) else None
    if spelled is None:
        raise BatchServiceError("InvalidPropertyValue", PropertyName=name, PropertyValue=value)
    return spelled


def registry(value: Any) -> dict[str, Any]:
    """A container registry: user name and password, or a managed identity."""
    if not isinstance(value, dict):
        raise BatchServiceError("InvalidPropertyValue", PropertyName="containerRegistries")
    if value.get("identityReference") is not None:
        require(value, "identityReference.resourceId")
    else:
        require(value, "username", "password")
    return value


def container_configuration(value: Any) -> dict[str, Any]:
    """A pool's ``containerConfiguration``, enums in the spec's spelling."""
    if not isinstance(value, dict):
        raise BatchServiceError("InvalidPropertyValue", PropertyName="containerConfiguration")
    require(value, "type")
    names = value.get("containerImageNames")
    if names is not None and (
        not isinstance(names, list) or not all(isinstance(n, str) and n for n in names)
    ):
        raise BatchServiceError("InvalidPropertyValue", PropertyName="containerImageNames")
    registries = value.get("containerRegistries")
    if registries is not None and not isinstance(registries, list):
        raise BatchServiceError("InvalidPropertyValue", PropertyName="containerRegistries")
    for item in registries or []:
        registry(item)
    return {**value, "type": _enum(value["type"], CONTAINER_TYPES, "type")}


def container_settings(value: Any) -> dict[str, Any]:
    """A task's ``containerSettings``, enums in the spec's spelling."""
    if not isinstance(value, dict):
        raise BatchServiceError("InvalidPropertyValue", PropertyName="containerSettings")
    require(value, "imageName")
    out = dict(value)
    if value.get("workingDirectory") is not None:
        out["workingDirectory"] = _enum(
            value["workingDirectory"], WORKING_DIRECTORIES, "workingDirectory"
        )
    if value.get("registry") is not None:
        registry(value["registry"])
    mounts = value.get("containerHostBatchBindMounts")
    if mounts is not None:
        if not isinstance(mounts, list) or not all(isinstance(m, dict) for m in mounts):
            raise BatchServiceError(
                "InvalidPropertyValue", PropertyName="containerHostBatchBindMounts"
            )
        out["containerHostBatchBindMounts"] = [
            {**m, "source": _enum(m.get("source"), BIND_SOURCES, "source")} for m in mounts
        ]
    return out
