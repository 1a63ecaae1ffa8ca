"""What an engine run hands back to the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.plan.cost_lines import CostIncurred


@dataclass
class RunResult:
    ok: bool = True
    counts: dict[str, int] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)  # by teardown or destroy
    left: list[str] = field(default_factory=list)  # kept by policy or after a failure
    outputs: list[str] = field(default_factory=list)  # files written (collect)
    errors: list[str] = field(default_factory=list)
    # What the run cost, from the measured times of what it ran (``engine.cost_meter``).
    cost: CostIncurred | None = None

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def merge(self, other: RunResult) -> None:
        self.ok = self.ok and other.ok
        for key, value in other.counts.items():
            self.count(key, value)
        self.removed += other.removed
        self.left += other.left
        self.outputs += other.outputs
        self.errors += other.errors


@dataclass(frozen=True)
class StatusRow:
    address: str
    kind: str
    state: str
    detail: dict[str, Any] = field(default_factory=dict)
