"""Polling with backoff until something is true, under a deadline that no wait crosses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from runner.engine.events import Emit
from runner.engine.retry import Clock, Deadline, RetryPolicy, call_with_retry

T = TypeVar("T")


@dataclass(frozen=True)
class Poll(Generic[T]):
    """One look: finished or not, what was seen, and how long the server asks us to wait."""

    done: bool
    value: T
    retry_after: float | None = None


@dataclass(frozen=True)
class PollSchedule:
    first: float = 0.1
    factor: float = 1.5
    cap: float = 5.0


def poll_until(
    look: Callable[[], Poll[T]],
    *,
    address: str,
    what: str,
    emit: Emit,
    clock: Clock,
    deadline: float,
    schedule: PollSchedule | None = None,
    policy: RetryPolicy | None = None,
) -> T:
    """Call ``look`` (each call retried on temporary errors) until it says done."""
    schedule = schedule or PollSchedule()
    interval = schedule.first
    while True:
        seen = call_with_retry(
            look,
            address=address,
            what=what,
            emit=emit,
            policy=policy,
            clock=clock,
            deadline=deadline,
        )
        if seen.done:
            return seen.value
        wait = interval
        if seen.retry_after is not None:
            wait = min(schedule.cap, max(seen.retry_after, interval))
        if clock.now() + wait > deadline:
            raise Deadline(f"{what}: timed out")
        clock.sleep(wait)
        interval = min(schedule.cap, interval * schedule.factor)
