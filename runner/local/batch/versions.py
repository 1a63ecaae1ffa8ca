"""The Batch data-plane api-versions Azure serves, and the wire shapes that differ by version.

Batch serves every api-version newer than September 2017 (its API status page). The list is
the stable folders of azure-rest-api-specs: ``specification/batch/data-plane/Microsoft.Batch/
stable/`` (2017-09-01.6.0 to 2024-07-01.20.0) and, once the spec moved to TypeSpec,
``Azure.Batch/stable/2025-06-01.21.0``, whose generated clients (azure-batch 15, the .NET and
JavaScript ones) send it as ``2025-06-01``; Azure's recorded answers to them show both work.

What changed between them, as the generated SDKs of each version read and write it
(azure-batch 4.1.3 through 15, whose api-versions are 2018-03-01.6.1 through 2025-06-01):

- 2018-12-01.8.0 renamed a resource file's ``blobSource`` to ``httpUrl``;
- 2020-09-01.12.0 renamed a pool's ``maxTasksPerNode`` to ``taskSlotsPerNode``, added a task's
  ``requiredSlots`` and a node's ``runningTaskSlotsCount``, and made the task-counts answer a
  ``TaskCountsResult`` (``taskCounts`` and ``taskSlotCounts``) instead of bare counts;
- 2018-08-01.7.0 dropped ``validationStatus`` from the counts;
- 2024-07-01.20.0 dropped ``cloudServiceConfiguration`` (the last SDK with it, azure-batch
  14.2, speaks 2024-02-01.19.0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runner.local.batch.errors import BatchServiceError

STABLE = (
    "2017-09-01.6.0",
    "2018-03-01.6.1",
    "2018-08-01.7.0",
    "2018-12-01.8.0",
    "2019-06-01.9.0",
    "2019-08-01.10.0",
    "2020-03-01.11.0",
    "2020-09-01.12.0",
    "2021-06-01.14.0",
    "2022-01-01.15.0",
    "2022-10-01.16.0",
    "2023-05-01.17.0",
    "2023-11-01.18.0",
    "2024-02-01.19.0",
    "2024-07-01.20.0",
    "2025-06-01.21.0",
)
API_VERSIONS = (*STABLE, "2025-06-01")
LATEST = "2025-06-01"

HTTP_URL_SINCE = "2018-12-01"
TASK_SLOTS_SINCE = "2020-09-01"
NO_VALIDATION_STATUS_SINCE = "2018-08-01"
NO_CLOUD_SERVICE_SINCE = "2024-07-01"

# Properties a version before 2020-09-01.12.0 neither sends nor reads.
_SLOT_FIELDS = ("requiredSlots", "runningTaskSlotsCount")


def check(version: str | None) -> str:
    """The request's api-version, or Batch's error for a missing or unknown one."""
    if not version:
        raise BatchServiceError("MissingRequiredQueryParameter", QueryParameterName="api-version")
    if version not in API_VERSIONS:
        raise BatchServiceError(
            "InvalidQueryParameterValue",
            QueryParameterName="api-version",
            QueryParameterValue=version,
            Reason=f"The specified api version is not supported. Supported versions: "
            f"{', '.join(API_VERSIONS)}",
        )
    return version


def since(version: str, date: str) -> bool:
    """Whether ``version`` is the one of ``date`` or newer (api-versions start with a date)."""
    return version[:10] >= date


def cloud_services(version: str) -> bool:
    """Whether the version still knows cloud service pools."""
    return not since(version, NO_CLOUD_SERVICE_SINCE)


def _renamed(value: Any, rename: Callable[[str, Any], str | None]) -> Any:
    if isinstance(value, list):
        return [_renamed(v, rename) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        name = rename(key, item)
        if name is not None:
            out[name] = _renamed(item, rename)
    return out


def request_body(body: dict[str, Any], version: str) -> dict[str, Any]:
    """A request body in the shapes the emulator keeps (the newest version's)."""
    if since(version, TASK_SLOTS_SINCE):
        return body
    old_urls = not since(version, HTTP_URL_SINCE)

    def rename(key: str, item: Any) -> str | None:
        if key == "maxTasksPerNode":
            return "taskSlotsPerNode"
        if key == "blobSource" and old_urls:
            return "httpUrl"
        return key

    return dict(_renamed(body, rename))


def response_body(body: dict[str, Any], version: str) -> dict[str, Any]:
    """An answer in the shapes of ``version``: what it renamed back, what it lacks left out."""
    if since(version, TASK_SLOTS_SINCE):
        return body
    old_urls = not since(version, HTTP_URL_SINCE)

    def rename(key: str, item: Any) -> str | None:
        if key == "taskSlotsPerNode":
            return "maxTasksPerNode"
        if key in _SLOT_FIELDS:
            return None
        if key == "httpUrl" and old_urls:
            return "blobSource"
        return key

    return dict(_renamed(body, rename))
