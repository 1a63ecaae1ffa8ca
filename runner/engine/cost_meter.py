"""How long each billed resource of a run ran, measured from the engine's own events.

A container group is billed from its start to its stop: its step begins when it is sent
(created, replaced, started) and ends once its run finished, was collected and torn
down; an always-running group left in place runs on. A Batch pool is billed from the
allocation of its nodes to their release: from its create (or, when the run reuses it,
the run's first step) to the teardown that deletes it; a pool left in place runs on.
Times are the events' monotonic stamps, so no wall clock is read.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from runner.engine.events import Emit, Event, StepFinished, StepStarted, TeardownReport
from runner.plan.model import Address
from runner.spec.models import BatchJob, ContainerGroup

# What makes a group run: a sent definition or a start; "wait" joins a run already going.
_GROUP_STEPS = frozenset({"create", "replace", "update", "start", "wait"})


@dataclass
class CostMeter:
    specs: Sequence[ContainerGroup | BatchJob]
    _started: dict[str, float] = field(default_factory=dict)
    _stopped: dict[str, float] = field(default_factory=dict)
    _released: set[str] = field(default_factory=set)
    _made: set[str] = field(default_factory=set)  # pools this run creates
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._groups = {
            str(Address.container_group(s.resource_group, s.name)): s
            for s in self.specs
            if isinstance(s, ContainerGroup)
        }
        # A BatchJob's root address -> its pool's address and teardown step's address.
        self._pools = {
            str(Address.batch(s.name)): (
                str(Address.batch(s.name, "pool", s.pool.id)),
                str(Address.batch(s.name, "teardown")),
            )
            for s in self.specs
            if isinstance(s, BatchJob)
        }

    def watching(self, emit: Emit) -> Emit:
        """``emit``, with every event seen by the meter first."""

        def both(event: Event) -> None:
            self.see(event)
            emit(event)

        return both

    def see(self, event: Event) -> None:
        with self._lock:
            if event.address in self._groups:
                self._group(event)
                return
            root = str(Address.parse(event.address).root)
            if root in self._pools:
                self._pool(event, *self._pools[root])

    def _group(self, event: Event) -> None:
        if isinstance(event, StepStarted) and event.step in _GROUP_STEPS:
            self._started.setdefault(event.address, event.at)
        elif isinstance(event, StepFinished) and event.address in self._started:
            self._stopped[event.address] = event.at
            if event.outcome == "skipped":
                del self._started[event.address]

    def _pool(self, event: Event, pool: str, teardown: str) -> None:
        if isinstance(event, StepStarted) and event.address == pool:
            self._started[pool] = event.at  # allocation starts with the pool's create
            self._made.add(pool)
        elif isinstance(event, StepStarted) and event.address != teardown:
            if pool not in self._made:
                self._started.setdefault(pool, event.at)  # a reused pool: billed already
        elif isinstance(event, StepFinished) and event.address == pool:
            if event.outcome == "skipped":
                self._started.pop(pool, None)  # never made: no node was allocated
        elif isinstance(event, TeardownReport) and pool in self._started:
            self._stopped[pool] = event.at
            if pool in event.removed:
                self._released.add(pool)

    def measured(self) -> dict[str, float]:
        """Seconds each resource ran during the apply, by its address."""
        with self._lock:
            return {
                address: max(0.0, self._stopped.get(address, start) - start)
                for address, start in self._started.items()
            }

    def running(self, removed: Sequence[str]) -> frozenset[str]:
        """What runs on after the apply, and so goes on costing: an always-running group
        not deleted, a pool not released."""
        gone = set(removed) | self._released
        with self._lock:
            out = {
                a
                for a in self._started
                if a not in gone and not (a in self._groups and self._groups[a].runs_to_completion)
            }
        return frozenset(out)
