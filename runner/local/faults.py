"""Fault injection and request counters for the emulator's APIs.

A rule says which requests it hits (api, method, route substring) and what happens:
``429`` (with ``Retry-After``), ``500`` (with the API's error body), ``drop`` (the
connection closes without a response) or ``latency`` (the request, or the long-running
operation it starts, takes longer). ``rate`` makes a rule probabilistic; ``count`` makes it
hit exactly that many times. Counters are keyed ``"METHOD route-template"``.
Rules and counters only: ``fault_hooks`` applies them to an app's requests.

One fault is not a request's: ``preempt`` takes a low-priority node of the local Batch
account away, as Azure reclaims spot capacity. Its ``route`` is matched against the node's
path (``/pools/<pool>/nodes/<node>``); each task attempt that starts on a matching
low-priority node is judged once (``rate``, ``count``), and a hit preempts the node
``after`` seconds into the attempt. The node is back (reallocated, its start task run
again) ``downtime`` seconds later.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Api = Literal["arm", "batch"]
FAULTS = ("429", "500", "drop", "latency", "preempt")
NODE_ROUTE = "/pools/{poolId}/nodes/{nodeId}"
ADMIN_PREFIX = "/_runner"


@dataclass
class FaultRule:
    fault: str
    api: str = "*"
    method: str = "*"
    route: str = "*"
    rate: float | None = None
    count: int | None = None
    retry_after: float = 1
    latency: float = 0.0
    lro_latency: float = 0.0
    # preempt: seconds into the task attempt, and seconds until the node is back.
    after: float = 0.0
    downtime: float = 1.0
    hits: int = field(default=0)

    def __post_init__(self) -> None:
        self.fault = str(self.fault)
        if self.fault not in FAULTS:
            raise ValueError(f"unknown fault {self.fault!r}: expected one of {', '.join(FAULTS)}")
        if self.api not in ("arm", "batch", "*"):
            raise ValueError(f"unknown api {self.api!r}: expected arm, batch or *")
        if self.rate is not None and not 0 <= self.rate <= 1:
            raise ValueError(f"rate {self.rate} is not between 0 and 1")
        if self.after < 0 or self.downtime < 0:
            raise ValueError("after and downtime are seconds, 0 or more")
        self.method = self.method.upper()

    def matches(self, api: str, method: str, template: str, path: str) -> bool:
        if self.api != "*" and self.api != api:
            return False
        if self.method != "*" and self.method != method.upper():
            return False
        if self.route not in ("*", ""):
            route = self.route.lower()
            if route not in template.lower() and route not in path.lower():
                return False
        return not (self.count is not None and self.hits >= self.count)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_rules(data: Any) -> list[FaultRule]:
    """Rules from JSON data: a list of rule objects, or ``{"rules": [...]}``."""
    if isinstance(data, Mapping):
        data = data.get("rules", [])
    if not isinstance(data, list):
        raise ValueError("fault rules must be a list of objects")
    allowed = set(FaultRule.__dataclass_fields__) - {"hits"}
    rules = []
    for item in data:
        if not isinstance(item, Mapping):
            raise ValueError(f"a fault rule must be an object, not {item!r}")
        unknown = set(item) - allowed
        if unknown:
            raise ValueError(f"unknown fault rule fields: {', '.join(sorted(unknown))}")
        rules.append(FaultRule(**{k: v for k, v in item.items() if v is not None}))
    return rules


def parse_rule_text(text: str) -> dict[str, Any]:
    """A rule from ``key=value,key=value`` text (the ``--fault`` option), as JSON data."""
    rule: dict[str, Any] = {}
    numbers = {
        "rate": float,
        "count": int,
        "retry_after": float,
        "latency": float,
        "lro_latency": float,
        "after": float,
        "downtime": float,
    }
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"fault option part {part!r} is not key=value")
        key = key.strip().replace("-", "_")
        rule[key] = numbers[key](value) if key in numbers else value.strip()
    parse_rules([rule])  # validates
    return rule


class FaultInjector:
    """Rules and counters shared by every API of one emulator process."""

    def __init__(self, rules: Iterable[FaultRule] = ()) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = list(rules)
        self._counters: Counter[str] = Counter()
        self._random = random.Random()

    def set_rules(self, rules: Iterable[FaultRule]) -> None:
        with self._lock:
            self._rules = list(rules)

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def count(self, method: str, template: str) -> None:
        with self._lock:
            self._counters[f"{method.upper()} {template}"] += 1

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)

    def reset_counters(self) -> None:
        with self._lock:
            self._counters.clear()

    def pick(self, api: str, method: str, template: str, path: str) -> FaultRule | None:
        """The first rule that fires for this request; it counts as one hit."""
        with self._lock:
            for rule in self._rules:
                if rule.fault == "preempt" or (rule.fault == "latency" and not rule.latency):
                    continue  # nodes' faults and LRO-only latency touch no request
                if not rule.matches(api, method, template, path):
                    continue
                if rule.rate is not None and self._random.random() >= rule.rate:
                    continue
                rule.hits += 1
                return FaultRule(**rule.to_dict())
        return None

    def lro_latency(self, api: str, method: str, path: str, template: str = "") -> float:
        """Seconds a long-running operation started now spends before it leaves Pending.

        ``path`` is the resource's path and ``template`` its route template, which a rule's
        ``route`` is matched against, as for requests.
        """
        with self._lock:
            for rule in self._rules:
                if rule.fault != "latency" or not rule.lro_latency:
                    continue
                if rule.matches(api, method, template or path, path):
                    if rule.rate is not None and self._random.random() >= rule.rate:
                        continue
                    if rule.count is not None:
                        rule.hits += 1
                    return rule.lro_latency
        return 0.0

    def preemption(self, pool_id: str, node_id: str) -> FaultRule | None:
        """The first ``preempt`` rule that fires for a task attempt starting on this
        low-priority node; it counts as one hit."""
        path = f"/pools/{pool_id}/nodes/{node_id}"
        with self._lock:
            for rule in self._rules:
                if rule.fault != "preempt" or not rule.matches("batch", "*", NODE_ROUTE, path):
                    continue
                if rule.rate is not None and self._random.random() >= rule.rate:
                    continue
                rule.hits += 1
                return FaultRule(**rule.to_dict())
        return None
