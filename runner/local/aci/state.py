"""Container groups: the rules of ACI over the store and a runtime, with no HTTP.

Long-running work is handed to ``provisioning.Provisioner``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from runner.local.aci import model, wire
from runner.local.aci.errors import aci_error
from runner.local.aci.provisioning import KIND, Provisioner
from runner.local.aci.runtime import GroupRuntime
from runner.local.arm.errors import arm_error
from runner.local.arm.resource_groups import ResourceGroups
from runner.local.store import Store

TRANSITIONING = ("Pending", "Creating", "Deleting")


def group_key(sub: str, rg: str, name: str) -> str:
    return f"{sub}/{rg}/{name}".lower()


class ContainerGroups:
    def __init__(
        self,
        store: Store,
        runtime: GroupRuntime,
        groups: ResourceGroups,
        work: Provisioner,
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.resource_groups = groups
        self.work = work
        self.operations = self.work.operations
        groups.on_delete.append(self.delete_all_in)

    # reads -----------------------------------------------------------------------------
    def _doc(self, sub: str, rg: str, name: str) -> dict[str, Any]:
        self.resource_groups.require(sub, rg)
        doc = self.store.get(KIND, group_key(sub, rg, name))
        if doc is None:
            raise arm_error("ResourceNotFound", type=wire.RESOURCE_TYPE, name=name, rg=rg)
        return doc

    def get(self, sub: str, rg: str, name: str) -> dict[str, Any]:
        key = group_key(sub, rg, name)
        self._doc(sub, rg, name)
        doc = self.refresh(key) or self._doc(sub, rg, name)
        return wire.render(doc, instance_view=True)

    def list(self, sub: str, rg: str | None = None) -> list[dict[str, Any]]:
        if rg is not None:
            self.resource_groups.require(sub, rg)
        prefix = f"{sub}/{rg}/".lower() if rg is not None else f"{sub}/".lower()
        # Azure's lists carry no instance view, neither the group's nor its containers' (its
        # recorded answers: tests/local/recorded/; azure-rest-api-specs issue 21280 and
        # azure-sdk-for-java issue 39755), though the REST example ContainerGroupsList.json
        # shows one: a client must get a group to read its state.
        docs = self.store.list(KIND, prefix)
        return [wire.render(d, instance_view=False) for d in docs]

    def logs(
        self,
        sub: str,
        rg: str,
        name: str,
        container: str,
        tail: int | None,
        timestamps: bool = False,
    ) -> str:
        doc = self._doc(sub, rg, name)
        names = [c["name"] for c in doc["resource"]["properties"]["containers"]]
        if container not in names:
            raise aci_error("ContainerNotFound", container=container, name=name)
        defn = model.definition(group_key(sub, rg, name), doc["resource"])
        return self.runtime.logs(defn, container, tail, timestamps) or ""

    # writes ----------------------------------------------------------------------------
    def create_or_update(
        self, sub: str, rg: str, name: str, body: dict[str, Any]
    ) -> tuple[dict[str, Any], bool, str]:
        self.resource_groups.require(sub, rg)
        model.validate(name, body)
        key = group_key(sub, rg, name)
        old = self.store.get(KIND, key)
        if old is not None:
            if old["provisioning"] in TRANSITIONING:
                raise aci_error("ContainerGroupTransitioning", name=name)
            changed = model.replace_fields(old["resource"], body)
            if changed:
                raise aci_error("InvalidContainerGroupUpdate", name=name, fields=", ".join(changed))
        resource = {
            "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/"
            f"{wire.RESOURCE_TYPE}/{old['resource']['name'] if old else name}",
            "name": old["resource"]["name"] if old else name,
            "type": wire.RESOURCE_TYPE,
            # ACI answers with the location's short name: "West Europe" -> "westeurope".
            "location": str(body["location"]).replace(" ", "").lower(),
            "properties": body["properties"],
        }
        for extra in ("tags", "zones", "identity"):
            if body.get(extra) is not None:
                resource[extra] = body[extra]
        doc = {
            "resource": resource,
            "sub": sub,
            "rg": rg,
            "stopped": False,
            "failure": None,
            "events": {},
            "view": None,
            "provisioning": "Pending",
            "generation": (old or {}).get("generation", 0) + 1,
        }
        op_id = self.operations.begin(sub, resource["location"], resource["id"])
        self.store.put(KIND, key, doc)
        self.work.schedule(
            self.work.delay("PUT", resource["id"]), self.work.run, key, doc["generation"], op_id
        )
        return wire.render(doc, instance_view=False, group_view=True), old is None, op_id

    def update_tags(self, sub: str, rg: str, name: str, tags: dict[str, str]) -> dict[str, Any]:
        self._doc(sub, rg, name)

        def change(doc: dict[str, Any]) -> dict[str, Any]:
            doc["resource"]["tags"] = tags
            return doc

        doc = self.store.update(KIND, group_key(sub, rg, name), change)
        assert doc is not None
        return wire.render(doc, instance_view=False)

    def delete(self, sub: str, rg: str, name: str) -> tuple[dict[str, Any], str] | None:
        self.resource_groups.require(sub, rg)
        key = group_key(sub, rg, name)
        doc = self.store.get(KIND, key)
        if doc is None:
            return None
        # ACI answers with the whole group, the group's and its containers' instance views
        # included (Azure's recorded answers to `az container delete`), read as it stood.
        self.refresh(key)
        doc = self.work.advance(key, "Deleting", doc["generation"] + 1) or doc
        op_id = self.operations.begin(sub, doc["resource"]["location"], doc["resource"]["id"])
        delay = self.work.delay("DELETE", doc["resource"]["id"])
        self.work.schedule(delay, self.work.delete, key, op_id)
        return wire.render(doc, instance_view=True), op_id

    def start(self, sub: str, rg: str, name: str) -> str | None:
        """Starts a stopped or finished group; None when it runs already."""
        doc = self._doc(sub, rg, name)
        if doc["provisioning"] in TRANSITIONING:
            raise aci_error("ContainerGroupTransitioning", name=name)
        if (
            not doc["stopped"]
            and wire.group_state(self.refresh(group_key(sub, rg, name)) or doc) == "Running"
        ):
            return None
        return self._rerun(sub, rg, name, doc)

    def restart(self, sub: str, rg: str, name: str) -> str:
        doc = self._doc(sub, rg, name)
        if doc["provisioning"] in TRANSITIONING:
            raise aci_error("ContainerGroupTransitioning", name=name)
        if doc["stopped"]:
            raise aci_error("ContainerGroupStopped", name=name)
        return self._rerun(sub, rg, name, doc, "restart")

    def stop(self, sub: str, rg: str, name: str) -> None:
        doc = self._doc(sub, rg, name)
        key = group_key(sub, rg, name)
        if doc["provisioning"] in ("Creating", "Deleting"):
            raise aci_error("ContainerGroupTransitioning", name=name)
        self.refresh(key)
        # A container's times have milliseconds in ACI's answers.
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        with self.work.lock(key):
            self.store.update(KIND, key, lambda d: wire.stopped(d, now))
            self.runtime.remove(key)

    def _rerun(
        self, sub: str, rg: str, name: str, doc: dict[str, Any], action: str = "start"
    ) -> str:
        key = group_key(sub, rg, name)

        def change(d: dict[str, Any]) -> dict[str, Any]:
            d.update(
                stopped=False,
                failure=None,
                waiting={},
                view=None,
                events={},
                provisioning="Pending",
                generation=d["generation"] + 1,
            )
            return d

        new = self.store.update(KIND, key, change)
        assert new is not None
        op_id = self.operations.begin(sub, doc["resource"]["location"], doc["resource"]["id"])
        delay = self.work.delay("POST", doc["resource"]["id"], action)
        self.work.schedule(delay, self.work.run, key, new["generation"], op_id)
        return op_id

    def delete_all_in(self, sub: str, rg: str) -> None:
        for key, _ in self.store.items(KIND, f"{sub}/{rg}/".lower()):
            self.work.remove(key)

    # observation and restarts ----------------------------------------------------------
    def refresh(self, key: str) -> dict[str, Any] | None:
        return self.work.refresh(key)

    def watch(self, interval: float = 1.0) -> None:
        self.work.watch(interval)

    def resume(self) -> None:
        """After a restart of the emulator: runs again what was running or starting."""
        for key, doc in self.store.items(KIND):
            if doc["provisioning"] == "Deleting":
                op_id = self.operations.begin(
                    doc["sub"], doc["resource"]["location"], doc["resource"]["id"]
                )
                self.work.schedule(0, self.work.delete, key, op_id)
            elif doc["provisioning"] in ("Pending", "Creating") or (
                doc["provisioning"] == "Succeeded"
                and not doc["stopped"]
                and wire.group_state(doc) == "Running"
            ):
                self._rerun(doc["sub"], doc["rg"], doc["resource"]["name"], doc)
