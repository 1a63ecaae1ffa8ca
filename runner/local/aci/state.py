"""Container groups: the rules of ACI over the store and a runtime, with no HTTP.

Long-running work (starting containers, deleting) runs on worker threads; each run of a
group carries a generation number so a superseded run gives up quietly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from runner.local.aci import model, wire
from runner.local.aci.errors import aci_error
from runner.local.aci.operations import Operations, now_iso
from runner.local.aci.runtime import GroupRuntime, RunFailure
from runner.local.arm.errors import arm_error
from runner.local.arm.resource_groups import ResourceGroups
from runner.local.context import ServiceContext
from runner.local.transitions import ACI_PROVISIONING

KIND = "aci.group"
TEMPLATE = (
    "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerInstance/"
    "containerGroups/{name}"
)
TRANSITIONING = ("Pending", "Creating", "Deleting")
log = logging.getLogger("runner.local.aci")


def group_key(sub: str, rg: str, name: str) -> str:
    return f"{sub}/{rg}/{name}".lower()


class ContainerGroups:
    def __init__(
        self,
        ctx: ServiceContext,
        runtime: GroupRuntime,
        groups: ResourceGroups,
        workers: Executor,
    ) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.runtime = runtime
        self.resource_groups = groups
        self.workers = workers
        self.operations = Operations(ctx.store)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
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
        return [wire.render(d, instance_view=False) for d in self.store.list(KIND, prefix)]

    def logs(self, sub: str, rg: str, name: str, container: str, tail: int | None) -> str:
        doc = self._doc(sub, rg, name)
        names = [c["name"] for c in doc["resource"]["properties"]["containers"]]
        if container not in names:
            raise aci_error("ContainerNotFound", container=container, name=name)
        defn = model.definition(group_key(sub, rg, name), doc["resource"])
        return self.runtime.logs(defn, container, tail) or ""

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
                raise aci_error("InvalidContainerGroupUpdate", name=name,
                                fields=", ".join(changed))
        resource = {
            "id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/"
                  f"{wire.RESOURCE_TYPE}/{old['resource']['name'] if old else name}",
            "name": old["resource"]["name"] if old else name,
            "type": wire.RESOURCE_TYPE,
            "location": body["location"],
            "properties": body["properties"],
        }
        for extra in ("tags", "zones", "identity"):
            if body.get(extra) is not None:
                resource[extra] = body[extra]
        doc = {"resource": resource, "sub": sub, "rg": rg, "stopped": False, "failure": None,
               "events": {}, "view": None, "provisioning": "Pending",
               "generation": (old or {}).get("generation", 0) + 1}
        op_id = self.operations.begin(sub, body["location"])
        self.store.put(KIND, key, doc)
        self._schedule(self._delay("PUT", resource["id"]), self._run, key, doc["generation"], op_id)
        return wire.render(doc, instance_view=False), old is None, op_id

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
        doc = self._advance(key, "Deleting", doc["generation"] + 1) or doc
        op_id = self.operations.begin(sub, doc["resource"]["location"])
        self._schedule(self._delay("DELETE", doc["resource"]["id"]), self._delete, key, op_id)
        return wire.render(doc, instance_view=False), op_id

    def start(self, sub: str, rg: str, name: str) -> str | None:
        """Starts a stopped or finished group; None when it runs already."""
        doc = self._doc(sub, rg, name)
        if doc["provisioning"] in TRANSITIONING:
            raise aci_error("ContainerGroupTransitioning", name=name)
        if not doc["stopped"] and wire.group_state(self.refresh(group_key(sub, rg, name))
                                                   or doc) == "Running":
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
        now = now_iso()

        def change(d: dict[str, Any]) -> dict[str, Any]:
            d["stopped"], d["generation"] = True, d["generation"] + 1
            if d["provisioning"] == "Pending":
                d["provisioning"] = "Succeeded"
            for cname, view in (d.get("view") or {}).items():
                if view["currentState"].get("state") != "Terminated":
                    view["currentState"] = {"state": "Terminated", "finishTime": now,
                                            "detailStatus": "Stopped", "exitCode": 0,
                                            "startTime": view["currentState"].get("startTime")}
                d.setdefault("events", {}).setdefault(cname, []).append(
                    {"count": 1, "firstTimestamp": now, "lastTimestamp": now, "name": "Killing",
                     "message": f"Killing container {cname}", "type": "Normal"})
            return d

        with self._lock(key):
            self.store.update(KIND, key, change)
            self.runtime.remove(key)

    def _rerun(
        self, sub: str, rg: str, name: str, doc: dict[str, Any], action: str = "start"
    ) -> str:
        key = group_key(sub, rg, name)

        def change(d: dict[str, Any]) -> dict[str, Any]:
            d.update(stopped=False, failure=None, view=None, events={},
                     provisioning="Pending", generation=d["generation"] + 1)
            return d

        new = self.store.update(KIND, key, change)
        assert new is not None
        op_id = self.operations.begin(sub, doc["resource"]["location"])
        delay = self._delay("POST", doc["resource"]["id"], action)
        self._schedule(delay, self._run, key, new["generation"], op_id)
        return op_id

    def delete_all_in(self, sub: str, rg: str) -> None:
        for key, _ in self.store.items(KIND, f"{sub}/{rg}/".lower()):
            with self._lock(key):
                self.runtime.remove(key)
                self.store.delete(KIND, key)

    # workers ---------------------------------------------------------------------------
    def _delay(self, method: str, resource_id: str, action: str = "") -> float:
        """Seconds before a long-running operation starts moving: injected LRO latency or
        the provisioning progression chosen at run time."""
        suffix = f"/{action}" if action else ""
        latency = self.ctx.faults.lro_latency(
            "arm", method, resource_id + suffix, TEMPLATE + suffix)
        return max(latency, self.ctx.progressions.get(ACI_PROVISIONING.name).delay())

    def _schedule(self, delay: float, work: Callable[..., None], *args: Any) -> None:
        # A timer, not a sleeping worker: fifty slow operations must not queue behind each other.
        if delay <= 0:
            self.workers.submit(work, *args)
            return
        timer = threading.Timer(delay, self.workers.submit, args=(work, *args))
        timer.daemon = True
        timer.start()

    def _advance(self, key: str, state: str, generation: int | None = None,
                 expect: int | None = None, **fields: Any) -> dict[str, Any] | None:
        """Moves the group to ``state``; with ``expect``, only if it is still that run."""
        moved = False

        def change(d: dict[str, Any]) -> dict[str, Any]:
            nonlocal moved
            if expect is not None and d["generation"] != expect:
                return d
            d["provisioning"] = ACI_PROVISIONING.check(d["provisioning"], state)
            if generation is not None:
                d["generation"] = generation
            d.update(fields)
            moved = True
            return d

        doc = self.store.update(KIND, key, change)
        return doc if moved else None

    def _lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def _run(self, key: str, generation: int, op_id: str) -> None:
        try:
            self._provision(key, generation, op_id)
        except Exception as exc:  # a bug in the emulator must not leave the LRO hanging
            log.exception("provisioning %s failed", key)
            self.operations.finish(op_id, {"code": "InternalServerError", "message": str(exc)})

    def _provision(self, key: str, generation: int, op_id: str) -> None:
        # One runtime operation per group at a time: a delete or stop that comes while the
        # containers start waits, then removes them.
        with self._lock(key):
            doc = self._advance(key, "Creating", expect=generation)
            if doc is None:  # superseded by a later PUT, start, stop or delete
                self.operations.finish(op_id)
                return
            try:
                events = self.runtime.run(model.definition(key, doc["resource"]))
            except RunFailure as failure:
                self._advance(key, "Failed", expect=generation, failure=failure.reason,
                              events=failure.events)
                self.operations.finish(op_id, {"code": "ContainerGroupDeploymentFailed",
                                               "message": failure.reason})
                return
            self._advance(key, "Succeeded", expect=generation, events=events)
        self.refresh(key)
        self.operations.finish(op_id)

    def _delete(self, key: str, op_id: str) -> None:
        try:
            with self._lock(key):
                self.runtime.remove(key)
                self.store.delete(KIND, key)
            self.operations.finish(op_id)
        except Exception as exc:
            log.exception("deleting %s failed", key)
            self.operations.finish(op_id, {"code": "InternalServerError", "message": str(exc)})

    # observation -----------------------------------------------------------------------
    def refresh(self, key: str) -> dict[str, Any] | None:
        """Reads the runtime's view of a running group into the store."""
        doc = self.store.get(KIND, key)
        if doc is None or doc["provisioning"] != "Succeeded" or doc["stopped"] or doc["failure"]:
            return doc
        view = self.runtime.observe(model.definition(key, doc["resource"]))
        if view is None or view == doc.get("view"):
            return doc
        generation = doc["generation"]

        def change(d: dict[str, Any]) -> dict[str, Any]:
            if d["generation"] == generation:
                d["view"] = view
                d["last_state"] = wire.group_state(d)
            return d

        return self.store.update(KIND, key, change)

    def refresh_all(self) -> None:
        for key, doc in self.store.items(KIND):
            if doc["provisioning"] != "Succeeded" or doc["stopped"] or doc["failure"]:
                continue
            # Succeeded and Failed are final: the restart policy lets nothing run again.
            if wire.group_state(doc) not in ("Succeeded", "Failed"):
                self.refresh(key)

    def watch(self, interval: float = 1.0) -> None:
        """Keeps stored instance views current until the emulator stops (a thread body)."""
        while not self.ctx.stopping.wait(interval):
            try:
                self.refresh_all()
            except Exception:  # keep watching: one bad read must not end the thread
                log.exception("refreshing container groups failed")

    def resume(self) -> None:
        """After a restart of the emulator: runs again what was running or starting."""
        for key, doc in self.store.items(KIND):
            if doc["provisioning"] == "Deleting":
                self.workers.submit(self._delete, key, self.operations.begin(
                    doc["sub"], doc["resource"]["location"]))
            elif doc["provisioning"] in ("Pending", "Creating") or (
                doc["provisioning"] == "Succeeded" and not doc["stopped"]
                and wire.group_state(doc) == "Running"
            ):
                self._rerun(doc["sub"], doc["rg"], doc["resource"]["name"], doc)

