"""Retries of temporary failures: Retry-After honoured, jittered exponential backoff, a
cap on attempts and on total time, and a look-ahead: when the next wait would cross the
deadline, give up now and say why. Permanent errors are never retried.

Pure apart from the injected clock, sleep and random source, so it is tested with a fake
clock.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from runner.engine.events import Emit, StepRetrying
from runner.errors import Cancelled, PermanentError, TemporaryError

T = TypeVar("T")


class RetriesExhausted(PermanentError):
    """A temporary failure that kept happening until the attempt or time cap."""


class Deadline(PermanentError):
    """The next wait would pass the deadline. ``run_deadline``: it is the deadline the
    caller gave (a job's timeout) that ran out, not only a retry's own time cap."""

    def __init__(self, message: str, code: str | None = None, *, run_deadline: bool = False):
        super().__init__(message, code=code)
        self.run_deadline = run_deadline


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8  # calls in all, the first included
    total: float = 120.0  # seconds from the first call
    base: float = 0.25
    cap: float = 15.0
    max_retry_after: float = 60.0  # a Retry-After above this is clipped

    def backoff(self, retry: int, rng: random.Random) -> float:
        """Equal jitter: half the exponential step fixed, half random."""
        step = min(self.cap, self.base * (2 ** (retry - 1)))
        return step / 2 + rng.uniform(0, step / 2)

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float:
        if retry_after is not None:
            # Waiting less than the server asked would only earn another 429.
            return min(self.max_retry_after, retry_after) + rng.uniform(0, 0.1)
        return self.backoff(retry, rng)


@dataclass
class Clock:
    """Time and waiting; a cancel event cuts a wait short."""

    now: Callable[[], float] = time.monotonic
    cancel: threading.Event = field(default_factory=threading.Event)
    rng: random.Random = field(default_factory=random.Random)

    def sleep(self, seconds: float) -> None:
        if self.cancel.wait(max(0.0, seconds)):
            raise Cancelled("cancelled while waiting")

    def check(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("cancelled")


def call_with_retry(
    fn: Callable[[], T],
    *,
    address: str,
    what: str,
    emit: Emit,
    policy: RetryPolicy | None = None,
    clock: Clock | None = None,
    deadline: float | None = None,
) -> T:
    """Call ``fn`` until it returns, retrying ``TemporaryError`` only. ``deadline`` is an
    absolute ``clock.now()`` time that no wait may cross."""
    policy = policy or RetryPolicy()
    clock = clock or Clock()
    start = clock.now()
    limit = start + policy.total
    if deadline is not None:
        limit = min(limit, deadline)
    binding = deadline is not None and deadline <= start + policy.total
    attempt = 0
    while True:
        clock.check()
        attempt += 1
        try:
            return fn()
        except TemporaryError as exc:
            if attempt >= policy.attempts:
                raise RetriesExhausted(
                    f"{what}: gave up after {attempt} attempts: {exc}", code=exc.code
                ) from exc
            wait = policy.delay(attempt, exc.delay, clock.rng)
            if clock.now() + wait > limit:
                raise Deadline(
                    f"{what}: gave up after {attempt} attempts, the next wait ({wait:.1f}s) "
                    f"would pass the time limit: {exc}",
                    code=exc.code,
                    run_deadline=binding,
                ) from exc
            emit(StepRetrying(address=address, delay=wait, reason=str(exc), attempt=attempt))
            clock.sleep(wait)
