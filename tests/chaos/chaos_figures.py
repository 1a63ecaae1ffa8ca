"""The figures the crash-and-resume suite prints at its end (tests/chaos/conftest.py)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Figures:
    started: float = field(default_factory=time.monotonic)
    points: int = 0  # kill points run, whatever their end
    kills_survived: int = 0  # SIGKILLed applies whose re-apply matched an uninterrupted run
    sigints_handled: int = 0  # SIGINTs answered by teardown, a report and exit 130
    ended_first: int = 0  # points the run finished before reaching (no signal sent)
    faults_injected: int = 0  # fault rule hits on the emulator
    retries_seen: int = 0  # StepRetrying events in every apply and destroy
    leftovers: int = 0  # things the runner made, still there after destroy
    secrets_found: int = 0
    secrets_scanned: int = 0  # texts and files scanned for secrets
    by_kind: dict[str, int] = field(default_factory=dict)  # points per spec kind
    kills_by_kind: dict[str, int] = field(default_factory=dict)
    rows: list[str] = field(default_factory=list)  # one per point: where it stopped, what followed

    def lines(self) -> list[str]:
        kinds = _per(self.by_kind)
        return [
            f"kill points run:           {self.points} ({kinds})",
            f"kills survived (SIGKILL):  {self.kills_survived} ({_per(self.kills_by_kind)})",
            f"SIGINTs handled:           {self.sigints_handled}",
            f"runs done before signal:   {self.ended_first}",
            f"faults injected:           {self.faults_injected}",
            f"retries seen:              {self.retries_seen}",
            f"leftovers after destroy:   {self.leftovers}",
            f"secrets found:             {self.secrets_found} "
            f"(in {self.secrets_scanned} outputs and files scanned)",
            f"duration:                  {time.monotonic() - self.started:.0f} s",
        ]


def _per(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}: {n}" for k, n in sorted(counts.items()))


def plan_summary(plan: dict[str, Any]) -> str:
    """``"3 create, 1 no-op"``: the actions of a plan, counted."""
    actions = Counter(c["action"] for c in plan.get("changes", ()))
    return ", ".join(f"{n} {a}" for a, n in sorted(actions.items())) or "nothing"


FIGURES = Figures()
