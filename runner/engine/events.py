"""Events the engine emits; ``render/`` turns them into text or JSON lines."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def _now() -> float:
    return time.monotonic()


@dataclass(frozen=True)
class Event:
    address: str
    # The workflow step whose work it is, when the run is a workflow's.
    workflow_step: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class StepStarted(Event):
    step: str  # create, update, replace, start, delete, upload, poll, collect, teardown...
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class StepProgress(Event):
    message: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class StepRetrying(Event):
    delay: float
    reason: str
    attempt: int = 1
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class StepFinished(Event):
    step: str
    outcome: str  # ok, failed, skipped, cancelled
    message: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class TeardownReport(Event):
    removed: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    at: float = field(default_factory=_now)


@dataclass(frozen=True)
class RunSummary(Event):
    """The last event of an apply: per-step counters (uploaded, tasks added, ...)."""

    counts: dict[str, int] = field(default_factory=dict)
    ok: bool = True
    at: float = field(default_factory=_now)


Emit = Callable[[Event], None]
