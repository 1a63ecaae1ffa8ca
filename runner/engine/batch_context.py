"""What the steps of one Batch run share: the desired state, the accounts, the engine's
clock and the job's deadline, and a retry of temporary errors that never waits past it.

Nothing in here changes while the run goes: each step reports what it did in its own
``StepOutcome``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from runner.backends.batch_account import BatchAccount
from runner.backends.blob_store import BlobStore
from runner.backends.sas import SasSigner, sas_expiry
from runner.engine.events import Emit
from runner.engine.executor import StepOutcome
from runner.engine.retry import Clock, Deadline, RetryPolicy, call_with_retry
from runner.errors import Cancelled, RunnerError
from runner.plan.batch import step_address
from runner.plan.batch_desired import DesiredBatch
from runner.spec.models import BatchJob

T = TypeVar("T")

RETRY_POLICY = RetryPolicy(attempts=10, total=600.0, base=0.25, cap=20.0)
TEARDOWN_BUDGET = 300.0  # seconds teardown may take after a timeout or Ctrl-C
COUNT_KEYS = (
    "uploaded",
    "skipped",
    "tasks_added",
    "tasks_present",
    "tasks_rerun",
    "succeeded",
    "failed",
    "blocked",  # waiting for a task that failed and blocks them: they never run
    "downloaded",
    "deleted",
)


class _Signer:
    """The run's SAS signer, made on first use (a user delegation key is one request)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._signer: SasSigner | None = None

    def get(self, make: Callable[[], SasSigner]) -> SasSigner:
        with self._lock:
            if self._signer is None:
                self._signer = make()
            return self._signer


@dataclass(frozen=True)
class BatchContext:
    desired: DesiredBatch
    workspace: str
    emit: Emit
    clock: Clock
    started: float  # clock time the run began
    deadline: float  # clock time by which the job's work must be over
    batch: BatchAccount
    blobs: BlobStore
    _signer: _Signer = field(default_factory=_Signer, repr=False, compare=False)

    @property
    def spec(self) -> BatchJob:
        return self.desired.spec

    @property
    def name(self) -> str:
        return self.desired.spec.name

    def address(self, piece: str | None = None, *names: str) -> str:
        return step_address(self.name, piece, *names)

    @property
    def timed_out(self) -> str:
        return f"timed out after {fmt_duration(self.spec.timeout.total_seconds())}"

    def check(self) -> None:
        """Raise ``Cancelled`` after Ctrl-C, ``Deadline`` once the job's time is up."""
        self.clock.check()
        if self.clock.now() >= self.deadline:
            raise Deadline(self.timed_out, run_deadline=True)

    def sleep(self, seconds: float) -> None:
        """Wait, never past the deadline: a wait that would cross it ends there and
        raises ``Deadline``."""
        self.clock.sleep(min(seconds, max(0.0, self.deadline - self.clock.now())))
        self.check()

    def retry(self, address: str, fn: Callable[[], T]) -> T:
        """Call ``fn`` through ``engine.retry``: temporary errors retried with backoff or
        the server's Retry-After, giving up as soon as the next wait would cross the
        job's deadline."""
        self.check()
        try:
            return call_with_retry(
                fn,
                address=address,
                what=address,
                emit=self.emit,
                policy=RETRY_POLICY,
                clock=self.clock,
                deadline=self.deadline,
            )
        except Deadline as exc:
            if exc.run_deadline:
                raise Deadline(f"timed out: {exc}", run_deadline=True) from exc
            raise

    def signer(self) -> SasSigner:
        return self._signer.get(lambda: self.blobs.signer(sas_expiry(self.spec.timeout)))

    def closing(self) -> BatchContext:
        """The same run for its teardown: a clock no cancel stops, a budget of its own."""
        clock = Clock(now=self.clock.now, cancel=threading.Event(), rng=self.clock.rng)
        return dataclasses.replace(self, clock=clock, deadline=clock.now() + TEARDOWN_BUDGET)


def guarded(fn: Callable[[], StepOutcome]) -> StepOutcome:
    """A Batch step's errors as its outcome: what the run reports for it, and whether it
    was the job's deadline that stopped it (a job left in place is then terminated)."""
    try:
        return fn()
    except Cancelled:
        return StepOutcome(ok=False, status="cancelled", errors=["cancelled"])
    except Deadline as exc:
        return StepOutcome(
            ok=False,
            status="failed",
            message=str(exc),
            errors=[str(exc)],
            timed_out=exc.run_deadline,
        )
    except RunnerError as exc:
        return StepOutcome(ok=False, status="failed", message=str(exc), errors=[str(exc)])


def fmt_duration(seconds: float) -> str:
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"
