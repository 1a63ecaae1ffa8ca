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
    """One look: finished or not, what was seen, how long the server asks us to wait, and
    whether anything moved since the last look (the backoff then starts again)."""

    done: bool
    value: T
    retry_after: float | None = None
    moved: bool = False


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
    wait_out: bool = False,
    timeout_message: str | None = None,
) -> T:
    """Call ``look`` (each call retried on temporary errors) until it says done. When the
    next wait would pass the deadline it raises ``Deadline`` at once, or with
    ``wait_out`` once the deadline has come (a job's timeout is its whole length)."""
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
        if seen.moved:
            interval = schedule.first
        wait = interval
        if seen.retry_after is not None:
            wait = min(schedule.cap, max(seen.retry_after, interval))
        if clock.now() + wait > deadline:
            if wait_out:
                clock.sleep(deadline - clock.now())
            raise Deadline(timeout_message or f"{what}: timed out", run_deadline=True)
        clock.sleep(wait)
        interval = min(schedule.cap, interval * schedule.factor)
