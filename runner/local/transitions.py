"""State transitions declared as data, and how fast a model moves through them.

Each model lists the states it may move to from each state; ``Progression`` says when a
pending move happens: at once, after N reads, or after N seconds. Tests and benchmarks pick
the progression per model at run time (``/_runner/transitions``), as moto's ManagedState.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Mode = Literal["immediate", "reads", "seconds"]


class InvalidTransition(ValueError):
    pass


@dataclass(frozen=True)
class Machine:
    name: str
    transitions: Mapping[str, frozenset[str]]

    def can(self, current: str, new: str) -> bool:
        return current == new or new in self.transitions.get(current, frozenset())

    def check(self, current: str, new: str) -> str:
        if not self.can(current, new):
            raise InvalidTransition(f"{self.name}: {current} -> {new} is not allowed")
        return new


@dataclass(frozen=True)
class Progression:
    mode: Mode = "immediate"
    value: float = 0

    def due(self, entered_at: float, reads: int, now: float) -> bool:
        if self.mode == "reads":
            return reads >= self.value
        if self.mode == "seconds":
            return now - entered_at >= self.value
        return True

    def delay(self) -> float:
        """Seconds to wait before moving on, for models advanced by a worker thread."""
        return self.value if self.mode == "seconds" else 0.0


def machine(name: str, table: Mapping[str, tuple[str, ...]]) -> Machine:
    return Machine(name, {k: frozenset(v) for k, v in table.items()})


# ACI provisioning: a PUT or start enters Pending; the worker moves it on.
ACI_PROVISIONING = machine(
    "aci.provisioning",
    {
        "Pending": ("Creating", "Failed", "Deleting"),
        "Creating": ("Succeeded", "Failed", "Deleting"),
        "Succeeded": ("Pending", "Deleting"),
        "Failed": ("Pending", "Deleting"),
        "Deleting": (),
    },
)


class Progressions:
    """The progression chosen per model name; ``immediate`` unless set."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_model: dict[str, Progression] = {}

    def get(self, model: str) -> Progression:
        with self._lock:
            return self._by_model.get(model, Progression())

    def set(self, model: str, progression: Progression) -> None:
        with self._lock:
            self._by_model[model] = progression

    def set_from(self, data: Mapping[str, Any]) -> None:
        """``{"model": {"mode": "seconds", "value": 0.5}}``; an empty mapping resets."""
        parsed = {m: Progression(**spec) for m, spec in data.items()}
        for p in parsed.values():
            if p.mode not in ("immediate", "reads", "seconds"):
                raise ValueError(f"unknown progression mode {p.mode!r}")
        with self._lock:
            self._by_model = parsed if parsed else {}

    def as_dict(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {m: {"mode": p.mode, "value": p.value} for m, p in self._by_model.items()}
