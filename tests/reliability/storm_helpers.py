"""Fault schedules for the storms and the figures taken from a run under them.

A schedule is a short list of the emulator's fault rules (429 with Retry-After, 500, a
dropped connection, latency on requests or on long-running operations), each limited by
``count`` so a run always ends. ``Storm`` totals what the suites inject and see, for the
figures the chaos suite prints.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

WRITE = re.compile(r"^(PUT|POST|PATCH|DELETE) ")
FAULTS = ("429", "500", "drop", "latency")


def rules(api: str, routes: list[str], methods: list[str], max_rules: int = 3) -> Any:
    """A strategy of fault schedules on ``api``: 1 to ``max_rules`` rules."""

    @st.composite
    def rule(draw: st.DrawFn) -> dict[str, Any]:
        fault = draw(st.sampled_from(FAULTS))
        made: dict[str, Any] = {
            "api": api,
            "method": draw(st.sampled_from(methods)),
            "route": draw(st.sampled_from(routes)),
            "fault": fault,
            "count": draw(st.integers(1, 2)),
        }
        if fault == "429":
            made["retry_after"] = 1
        if fault == "latency":
            made["latency"] = draw(st.sampled_from([0.0, 0.2]))
            made["lro_latency"] = draw(st.sampled_from([0.0, 0.5, 1.0]))
            if not made["latency"] and not made["lro_latency"]:
                made["latency"] = 0.2
        return made

    return st.lists(rule(), min_size=1, max_size=max_rules)


def injected(rules_after: list[dict[str, Any]]) -> int:
    """Faults that fail a request (429, 500, drop) among the rules' hits."""
    return sum(r.get("hits", 0) for r in rules_after if r["fault"] != "latency")


def writes(counters: dict[str, int]) -> int:
    return sum(n for key, n in counters.items() if WRITE.match(key))


def json_events(text: str, kind: str) -> list[dict[str, Any]]:
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            data = json.loads(line)
            if data.get("type") == kind:
                found.append(data)
    return found


@dataclass
class Storm:
    """What the storms did: runs, faults injected, retries seen."""

    runs: int = 0
    faults: int = 0
    retries: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, faults: int, retries: int) -> None:
        self.runs += 1
        self.faults += faults
        self.retries += retries


TOTALS = Storm()
