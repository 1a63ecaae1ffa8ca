"""What the steps of one Batch run share: the spec, clients, deadline, cancellation,
counters, and a retry loop for temporary errors that never sleeps past the deadline."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from runner.engine.events import Emit
from runner.engine.retry import Clock, Deadline, RetryPolicy, call_with_retry
from runner.errors import Cancelled, RunnerError
from runner.plan.batch_desired import DesiredBatch

if TYPE_CHECKING:
    from runner.backends.target import Target

T = TypeVar("T")

RETRY_POLICY = RetryPolicy(attempts=10, total=600.0, base=0.25, cap=20.0)
COUNT_KEYS = (
    "uploaded",
    "skipped",
    "tasks_added",
    "tasks_present",
    "tasks_rerun",
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
        """Call ``fn`` through ``engine.retry``: temporary errors retried with backoff or
        the server's Retry-After, giving up as soon as the next wait would cross the
        job's deadline."""
        self.check()
        started = time.monotonic()
        try:
            return call_with_retry(
                fn,
                address=address,
                what=address,
                emit=self.emit,
                policy=RETRY_POLICY,
                clock=Clock(cancel=self.cancel),
                deadline=self.deadline,
            )
        except Cancelled as exc:
            raise Stop("cancelled") from exc
        except Deadline as exc:
            if self.deadline <= started + RETRY_POLICY.total:
                raise TimedOut(f"timed out: {exc}") from exc
            raise


def _fmt(seconds: float) -> str:
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


fmt_duration = _fmt
