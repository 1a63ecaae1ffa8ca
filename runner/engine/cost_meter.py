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
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from runner.engine.events import Emit, Event, StepFinished, StepStarted, TeardownReport
from runner.plan.cost_lines import CostEstimate
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

    def measured(self, until: float | None = None) -> dict[str, float]:
        """Seconds each resource ran during the apply, by its address; with ``until``
        (a monotonic time, never 0), what has not stopped yet is counted up to it."""
        with self._lock:
            return {
                address: max(0.0, self._stopped.get(address, until or start) - start)
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


class CapGuard:
    """Stops a run whose accrued cost passes its spec's ``cost.cap``: every ``interval``
    seconds it prices what the meter has measured so far (what still runs, up to now) at
    the plan's prices and, once a spec's total is over its cap, sets ``cancel``, so the
    engine stops and tears down as its policy says, and keeps the reason to report.
    Caps per day (always-running groups) are checked by the plan alone."""

    def __init__(
        self,
        meter: CostMeter,
        estimate: CostEstimate | None,
        cancel: threading.Event,
        *,
        interval: float = 1.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.meter, self.estimate, self.cancel = meter, estimate, cancel
        self.interval, self.now = interval, now
        self.reason: str | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> str | None:
        """The reason to stop, once accrued cost is over a cap (and the cancel is set)."""
        if self.estimate is None or self.reason is not None:
            return self.reason
        caps = {c.spec: c.cap for c in self.estimate.caps if c.per == "run"}
        hourly = {ln.address: (ln.spec, ln.hourly) for ln in self.estimate.lines}
        accrued: dict[str, float] = {}
        for address, seconds in self.meter.measured(until=self.now()).items():
            spec, rate = hourly.get(address, ("", None))
            if rate is not None:
                accrued[spec] = accrued.get(spec, 0.0) + rate * seconds / 3600
        currency = self.estimate.source.currency
        for spec, cap in caps.items():
            if accrued.get(spec, 0.0) > cap:
                self.reason = (
                    f"{spec}: stopped: its accrued cost {accrued[spec]:.4f} {currency} "
                    f"passed its cost.cap of {cap:g} {currency}"
                )
                self.cancel.set()
                break
        return self.reason

    def __enter__(self) -> CapGuard:
        if self.estimate is not None and any(c.per == "run" for c in self.estimate.caps):
            self._thread = threading.Thread(target=self._watch, name="cost-cap", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(self.interval):
            if self.check() is not None:
                return
