"""Resource groups: their state in the shared store and the rules ARM applies to them
(handlers: ``resource_group_handlers``)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from runner.local.arm.errors import arm_error
from runner.local.store import Store

KIND = "arm.resourcegroup"
OP_KIND = "arm.operation"
# The delete running on a group, by the group's key: kept beside the group, never in it.
DELETION_KIND = "arm.resourcegroup.deletion"
# Where an emulator that kept the running delete in the group's document wrote it.
_LEGACY_OPERATION = "_operation"
_RG_NAME = re.compile(r"^[-\w._()]{1,90}$")
RG_TYPE = "Microsoft.Resources/resourceGroups"


def rg_key(sub: str, rg: str) -> str:
    return f"{sub}/{rg}".lower()


class ResourceGroups:
    """Resource groups of every subscription; deleting one deletes what it holds."""

    def __init__(self, store: Store, workers: Executor) -> None:
        self.store = store
        self.workers = workers
        # Called with (sub, rg) before a resource group goes: providers delete their resources.
        self.on_delete: list[Callable[[str, str], None]] = []
        self._split_legacy()

    def _split_legacy(self) -> None:
        """Moves a running delete an older emulator kept in the group's document beside it."""
        for key, doc in self.store.items(KIND):
            if _LEGACY_OPERATION in doc:
                self.store.put(DELETION_KIND, key, {"operation": doc.pop(_LEGACY_OPERATION)})
                self.store.put(KIND, key, doc)

    def get(self, sub: str, rg: str) -> dict[str, Any] | None:
        return self.store.get(KIND, rg_key(sub, rg))

    def require(self, sub: str, rg: str) -> dict[str, Any]:
        doc = self.store.get(KIND, rg_key(sub, rg))
        if doc is None:
            raise arm_error("ResourceGroupNotFound", rg=rg)
        return doc

    def put(self, sub: str, rg: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        bad = "".join(sorted({c for c in rg if not re.match(r"[-\w._()]", c)}))
        if bad or not _RG_NAME.match(rg) or rg.endswith("."):
            raise arm_error("InvalidResourceGroup", rg=rg, chars=bad or rg[-1:])
        old = self.get(sub, rg)
        if old is not None and old["properties"]["provisioningState"] == "Deleting":
            raise arm_error("ResourceGroupBeingDeleted", rg=rg)
        location = body.get("location") or (old or {}).get("location")
        if not location:
            raise arm_error("LocationRequired")
        # ARM keeps a location's short name: "West Europe" -> "westeurope".
        location = str(location).replace(" ", "").lower()
        doc = {
            "id": f"/subscriptions/{sub}/resourceGroups/{old['name'] if old else rg}",
            "name": old["name"] if old else rg,
            "type": RG_TYPE,
            "location": location,
            "properties": {"provisioningState": "Succeeded"},
        }
        if body.get("tags") is not None:
            doc["tags"] = body["tags"]
        if body.get("managedBy"):
            doc["managedBy"] = body["managedBy"]
        self.store.put(KIND, rg_key(sub, rg), doc)
        return doc, old is None

    def update(self, sub: str, rg: str, body: dict[str, Any]) -> dict[str, Any]:
        """PATCH: tags and managedBy change; the location cannot."""
        doc = self.require(sub, rg)
        if doc["properties"]["provisioningState"] == "Deleting":
            raise arm_error("ResourceGroupBeingDeleted", rg=rg)
        if body.get("tags") is not None:
            doc["tags"] = body["tags"]
        if body.get("managedBy"):
            doc["managedBy"] = body["managedBy"]
        self.store.put(KIND, rg_key(sub, rg), doc)
        return doc

    def list(self, sub: str) -> list[dict[str, Any]]:
        return self.store.list(KIND, f"{sub}/".lower())

    def begin_delete(self, sub: str, rg: str) -> str:
        doc = self.require(sub, rg)
        key = rg_key(sub, rg)
        running = self.store.get(DELETION_KIND, key)
        if doc["properties"]["provisioningState"] == "Deleting" and running:
            return str(running["operation"])  # a second delete joins the running one
        op_id = uuid.uuid4().hex
        self.store.put(OP_KIND, op_id, {"status": "InProgress", "sub": sub})
        doc["properties"]["provisioningState"] = "Deleting"
        self.store.put(DELETION_KIND, key, {"operation": op_id})
        self.store.put(KIND, key, doc)
        self.workers.submit(self._delete, sub, rg, op_id)
        return op_id

    def _delete(self, sub: str, rg: str, op_id: str) -> None:
        try:
            for hook in self.on_delete:
                hook(sub, rg)
            self.store.delete(KIND, rg_key(sub, rg))
            self.store.delete(DELETION_KIND, rg_key(sub, rg))
            self.store.put(OP_KIND, op_id, {"status": "Succeeded", "sub": sub})
        except Exception as exc:  # the operation reports it; the group stays
            self.store.put(OP_KIND, op_id, {"status": "Failed", "sub": sub, "error": str(exc)})

    def operation(self, op_id: str) -> dict[str, Any] | None:
        return self.store.get(OP_KIND, op_id)
