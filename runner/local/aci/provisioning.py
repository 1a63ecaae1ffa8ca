"""Long-running work on container groups: starting, deleting and observing them.

Work runs on worker threads. Each run of a group carries a generation number, so a run
superseded by a later PUT, start, stop or delete gives up quietly; one runtime operation per
group runs at a time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from runner.local.aci import model, wire
from runner.local.aci.operations import Operations
from runner.local.aci.runtime import GroupRuntime, RunFailure
from runner.local.faults import FaultInjector
from runner.local.store import Store
from runner.local.transitions import ACI_PROVISIONING, Progressions

KIND = "aci.group"
TEMPLATE = (
    "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerInstance/"
    "containerGroups/{name}"
)
log = logging.getLogger("runner.local.aci")


def _flat(events: dict[str, list[dict[str, Any]]] | None) -> list[dict[str, Any]]:
    """The events of every container, as an operation's status lists them."""
    return [event for per_container in (events or {}).values() for event in per_container]


class Provisioner:
    def __init__(
        self,
        store: Store,
        runtime: GroupRuntime,
        workers: Executor,
        *,
        faults: FaultInjector,
        progressions: Progressions,
        stopping: threading.Event,
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.workers = workers
        self.faults = faults
        self.progressions = progressions
        # Set when the emulator stops: the watch ends.
        self.stopping = stopping
        self.operations = Operations(store)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def delay(self, method: str, resource_id: str, action: str = "") -> float:
        """Seconds before a long-running operation starts moving: injected LRO latency or
        the provisioning progression chosen at run time."""
        suffix = f"/{action}" if action else ""
        latency = self.faults.lro_latency("arm", method, resource_id + suffix, TEMPLATE + suffix)
        return max(latency, self.progressions.get(ACI_PROVISIONING.name).delay())

    def schedule(self, delay: float, work: Callable[..., None], *args: Any) -> None:
        # A timer, not a sleeping worker: fifty slow operations must not queue behind each other.
        if delay <= 0:
            self.workers.submit(work, *args)
            return
        timer = threading.Timer(delay, self.workers.submit, args=(work, *args))
        timer.daemon = True
        timer.start()

    def advance(
        self,
        key: str,
        state: str,
        generation: int | None = None,
        expect: int | None = None,
        **fields: Any,
    ) -> dict[str, Any] | None:
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

    def run(self, key: str, generation: int, op_id: str) -> None:
        try:
            self._provision(key, generation, op_id)
        except Exception as exc:  # a bug in the emulator must not leave the LRO hanging
            log.exception("provisioning %s failed", key)
            self.operations.finish(op_id, {"code": "InternalServerError", "message": str(exc)})

    def _provision(self, key: str, generation: int, op_id: str) -> None:
        # A delete or stop that comes while the containers start waits, then removes them.
        with self.lock(key):
            doc = self.advance(key, "Creating", expect=generation)
            if doc is None:  # superseded
                self.operations.finish(op_id)
                return
            try:
                events = self.runtime.run(model.definition(key, doc["resource"]))
            except RunFailure as failure:
                self.advance(
                    key,
                    "Failed",
                    expect=generation,
                    failure=failure.reason,
                    events=failure.events,
                    waiting=failure.waiting,
                )
                self.operations.finish(
                    op_id,
                    {"code": "ContainerGroupDeploymentFailed", "message": failure.reason},
                    events=_flat(failure.events),
                )
                return
            self.advance(key, "Succeeded", expect=generation, events=events)
        self.refresh(key)
        self.operations.finish(op_id, events=_flat(events))

    def delete(self, key: str, op_id: str) -> None:
        try:
            self.remove(key)
            self.operations.finish(op_id)
        except Exception as exc:
            log.exception("deleting %s failed", key)
            self.operations.finish(op_id, {"code": "InternalServerError", "message": str(exc)})

    def remove(self, key: str) -> None:
        with self.lock(key):
            self.runtime.remove(key)
            self.store.delete(KIND, key)

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
        while not self.stopping.wait(interval):
            try:
                self.refresh_all()
            except Exception:  # keep watching: one bad read must not end the thread
                log.exception("refreshing container groups failed")
