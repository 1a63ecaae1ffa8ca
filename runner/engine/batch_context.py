"""What the steps of one Batch run share: the spec, clients, deadline, cancellation,
counters, and a retry loop for temporary errors that never sleeps past the deadline."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from runner.engine.events import Emit, StepRetrying
from runner.errors import RunnerError, TemporaryError
from runner.plan.batch_desired import DesiredBatch

if TYPE_CHECKING:
    from runner.backends.target import Target

T = TypeVar("T")

MAX_ATTEMPTS = 10
BACKOFF_START = 0.5
BACKOFF_CAP = 20.0
COUNT_KEYS = (
    "uploaded",
    "skipped",
    "tasks_added",
    "tasks_present",
    "succeeded",
    "failed",
    "downloaded",
    "deleted",
)


class TimedOut(RunnerError):
    """The job's timeout passed before its tasks completed."""


class Stop(RunnerError):
    """Cancellation was requested (Ctrl-C)."""


@dataclass
class BatchRun:
    desired: DesiredBatch
    target: Target
    emit: Emit
    workspace: str
    cancel: threading.Event
    deadline: float  # time.monotonic() value
    started: float = field(default_factory=time.monotonic)
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    clients: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.desired.spec.name

    def count(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.counts[key] += n

    def check(self) -> None:
        if self.cancel.is_set():
            raise Stop("cancelled")
        if time.monotonic() >= self.deadline:
            raise TimedOut(f"timed out after {_fmt(self.desired.spec.timeout.total_seconds())}")

    def sleep(self, seconds: float) -> None:
        """Sleep unless cancelled or the deadline comes first."""
        if time.monotonic() + seconds > self.deadline:
            self.cancel.wait(max(0.0, self.deadline - time.monotonic()))
        else:
            self.cancel.wait(seconds)
        self.check()

    def retry(self, address: str, fn: Callable[[], T]) -> T:
        """Call ``fn``, retrying ``TemporaryError`` with jittered backoff or the server's
        Retry-After; gives up now when the next wait would cross the deadline."""
        delay = BACKOFF_START
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.check()
            try:
                return fn()
            except TemporaryError as exc:
                wait = exc.delay if exc.delay is not None else delay * random.uniform(0.8, 1.2)
                if attempt == MAX_ATTEMPTS:
                    raise
                if time.monotonic() + wait > self.deadline:
                    raise TimedOut(
                        f"timed out: {exc} (next retry in {wait:.1f}s would pass the timeout)"
                    ) from exc
                self.emit(
                    StepRetrying(address=address, delay=wait, reason=str(exc), attempt=attempt)
                )
                self.sleep(wait)
                delay = min(delay * 2, BACKOFF_CAP)
        raise AssertionError("unreachable")


def _fmt(seconds: float) -> str:
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


fmt_duration = _fmt
