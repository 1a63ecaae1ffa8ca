"""Retry decisions with a fake clock: waits are recorded, never slept."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

import pytest

from runner.engine.events import StepRetrying
from runner.engine.poll import Poll, PollSchedule, poll_until
from runner.engine.retry import (
    Clock,
    Deadline,
    RetriesExhausted,
    RetryPolicy,
    call_with_retry,
)
from runner.errors import Cancelled, PermanentError, TemporaryError


class FakeClock(Clock):
    def __init__(self) -> None:
        super().__init__(cancel=threading.Event(), rng=random.Random(7))
        self.t = 1000.0
        self.slept: list[float] = []
        self.now = lambda: self.t  # type: ignore[method-assign]

    def sleep(self, seconds: float) -> None:
        self.check()
        self.slept.append(seconds)
        self.t += seconds


def failing(times: int, error: Callable[[], Exception], value: Any = "done") -> Callable[[], Any]:
    calls = {"n": 0}

    def fn() -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise error()
        return value

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def run(fn: Callable[[], Any], clock: FakeClock, policy: RetryPolicy | None = None, **kw: Any):
    events: list[Any] = []
    result = call_with_retry(
        fn, address="x", what="op", emit=events.append, policy=policy, clock=clock, **kw
    )
    return result, events


def test_temporary_errors_are_retried_until_success() -> None:
    clock = FakeClock()
    fn = failing(2, lambda: TemporaryError("busy"))
    result, events = run(fn, clock)
    assert result == "done"
    assert fn.calls["n"] == 3  # type: ignore[attr-defined]
    assert [type(e) for e in events] == [StepRetrying, StepRetrying]
    assert [e.attempt for e in events] == [1, 2]


def test_retry_after_is_honoured() -> None:
    clock = FakeClock()
    _, events = run(failing(1, lambda: TemporaryError("429", delay=7)), clock)
    assert 7 <= clock.slept[0] <= 7.1
    assert events[0].delay == clock.slept[0]


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(attempts=12, total=10_000, base=1, cap=8)
    clock = FakeClock()
    run(failing(10, lambda: TemporaryError("500")), clock, policy)
    for n, wait in enumerate(clock.slept, start=1):
        step = min(8, 2 ** (n - 1))
        assert step / 2 <= wait <= step
    assert max(clock.slept) <= 8


def test_permanent_errors_are_not_retried() -> None:
    clock = FakeClock()
    fn = failing(5, lambda: PermanentError("bad request", code="InvalidRequestContent"))
    with pytest.raises(PermanentError, match="bad request"):
        run(fn, clock)
    assert fn.calls["n"] == 1  # type: ignore[attr-defined]
    assert clock.slept == []


def test_attempts_are_capped() -> None:
    clock = FakeClock()
    fn = failing(100, lambda: TemporaryError("500", code="InternalServerError"))
    with pytest.raises(RetriesExhausted, match="gave up after 4 attempts") as info:
        run(fn, clock, RetryPolicy(attempts=4))
    assert fn.calls["n"] == 4  # type: ignore[attr-defined]
    assert info.value.code == "InternalServerError"


def test_look_ahead_stops_before_a_wait_that_crosses_the_time_cap() -> None:
    clock = FakeClock()
    fn = failing(100, lambda: TemporaryError("429", delay=30))
    with pytest.raises(Deadline, match="would pass the time limit") as caught:
        run(fn, clock, RetryPolicy(attempts=50, total=100, max_retry_after=60))
    # Three waits of ~30 s fit in 100 s; the fourth would not, so it is never slept.
    assert len(clock.slept) == 3
    assert clock.t - 1000.0 < 100
    assert not caught.value.run_deadline  # the retry's own cap, not the caller's deadline


def test_look_ahead_honours_an_outer_deadline() -> None:
    clock = FakeClock()
    fn = failing(100, lambda: TemporaryError("busy", delay=5))
    with pytest.raises(Deadline) as caught:
        run(fn, clock, deadline=clock.t + 12)
    assert len(clock.slept) == 2
    assert caught.value.run_deadline


def test_cancel_stops_retrying() -> None:
    clock = FakeClock()
    clock.cancel.set()
    with pytest.raises(Cancelled):
        run(failing(1, lambda: TemporaryError("busy")), clock)


def test_poll_backs_off_until_done() -> None:
    clock = FakeClock()
    answers = iter([False, False, False, True])

    def look() -> Poll[str]:
        return Poll(next(answers), "ready")

    value = poll_until(
        look,
        address="x",
        what="wait",
        emit=lambda e: None,
        clock=clock,
        deadline=clock.t + 60,
        schedule=PollSchedule(first=1, factor=2, cap=3),
    )
    assert value == "ready"
    assert clock.slept == [1, 2, 3]


def test_poll_times_out_without_sleeping_past_the_deadline() -> None:
    clock = FakeClock()
    with pytest.raises(Deadline, match="timed out"):
        poll_until(
            lambda: Poll(False, None),
            address="x",
            what="wait",
            emit=lambda e: None,
            clock=clock,
            deadline=clock.t + 10,
            schedule=PollSchedule(first=4, factor=1, cap=4),
        )
    assert clock.slept == [4, 4]


def test_a_look_that_saw_something_move_starts_the_backoff_again() -> None:
    clock = FakeClock()
    answers = iter([(False, False), (False, False), (False, True), (False, False), (True, False)])

    def look() -> Poll[str]:
        done, moved = next(answers)
        return Poll(done, "ready", moved=moved)

    poll_until(
        look,
        address="x",
        what="wait",
        emit=lambda e: None,
        clock=clock,
        deadline=clock.t + 60,
        schedule=PollSchedule(first=1, factor=2, cap=8),
    )
    assert clock.slept == [1, 2, 1, 2]


def test_a_poll_that_waits_out_its_deadline_ends_at_it_with_its_message() -> None:
    clock = FakeClock()
    start = clock.t
    with pytest.raises(Deadline, match="^timed out after 10s$") as caught:
        poll_until(
            lambda: Poll(False, None),
            address="x",
            what="wait",
            emit=lambda e: None,
            clock=clock,
            deadline=start + 10,
            schedule=PollSchedule(first=4, factor=1, cap=4),
            wait_out=True,
            timeout_message="timed out after 10s",
        )
    assert clock.slept == [4, 4, 2]
    assert clock.t == start + 10
    assert caught.value.run_deadline
