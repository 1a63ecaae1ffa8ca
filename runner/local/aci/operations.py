"""ACI's asynchronous operations, polled through ``Azure-AsyncOperation`` URLs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from runner.local.store import Store

KIND = "aci.operation"
# ACI's operation-status URLs carry this api-version whatever the request used.
STATUS_API_VERSION = "2018-06-01"


def now_iso() -> str:
    """ARM's operation times: seven fractional digits, as .NET writes them."""
    now = datetime.now(UTC)
    return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond:06d}0Z"


class Operations:
    def __init__(self, store: Store) -> None:
        self.store = store

    def begin(self, sub: str, location: str, resource_id: str) -> str:
        """A new operation on ``resource_id``. Its status, as ACI answers it, names the
        container group (not the operation) in ``id`` and is ``Pending`` until it ends."""
        op_id = str(uuid.uuid4())
        self.store.put(
            KIND,
            op_id,
            {
                "id": resource_id,
                "status": "Pending",
                "startTime": now_iso(),
                "properties": {"events": []},
            },
        )
        return op_id

    def finish(
        self,
        op_id: str,
        error: dict[str, str] | None = None,
        events: list[dict[str, Any]] | None = None,
    ) -> None:
        def change(doc: dict[str, Any]) -> dict[str, Any]:
            doc["status"] = "Failed" if error else "Succeeded"
            doc["properties"] = {"events": events or []}
            if error:
                doc["error"] = error
            return doc

        self.store.update(KIND, op_id, change)

    def get(self, op_id: str) -> dict[str, Any] | None:
        return self.store.get(KIND, op_id)

    @staticmethod
    def url(host_url: str, sub: str, location: str, op_id: str) -> str:
        return (
            f"{host_url.rstrip('/')}/subscriptions/{sub}/providers/Microsoft.ContainerInstance/"
            f"locations/{location}/operations/{op_id}?api-version={STATUS_API_VERSION}"
        )
