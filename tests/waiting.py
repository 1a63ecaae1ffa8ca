"""Waiting in tests: poll until a condition holds, then fail naming what never came.

The bound is an upper limit on waiting, never a timing assertion."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

WAIT_SECONDS = 60.0


def wait_for(
    read: Callable[[], T],
    done: Callable[[T], Any],
    what: str,
    within: float = WAIT_SECONDS,
    every: float = 0.1,
) -> T:
    """Calls ``read`` until ``done(value)``; fails with the last value after ``within``."""
    deadline = time.monotonic() + within
    value = read()
    while not done(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; last value: {value!r}")
        time.sleep(every)
        value = read()
    return value


def eventually(check: Callable[[], bool], within: float = WAIT_SECONDS) -> bool:
    """Whether ``check`` holds within ``within`` seconds, for callers that report the
    failure themselves."""
    try:
        wait_for(check, bool, "a check", within=within, every=0.2)
    except AssertionError:
        return False
    return True
