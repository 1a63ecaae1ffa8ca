"""A runtime with no engine: containers run at once and finish at once (exit code 0).

For HTTP-shape tests and benchmarks that measure the API rather than Docker.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from runner.local.aci.runtime import GroupDefinition


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class InstantRuntime:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started: dict[str, str] = {}

    def start(self) -> None:
        pass

    def stop(self) -> None:
        with self._lock:
            self._started.clear()

    def run(self, group: GroupDefinition) -> dict[str, list[dict[str, Any]]]:
        now = _now()
        with self._lock:
            self._started[group.key] = now
        event = {"count": 1, "firstTimestamp": now, "lastTimestamp": now, "type": "Normal"}
        return {
            c.name: [
                {**event, "name": "Pulling", "message": f'pulling image "{c.image}"'},
                {**event, "name": "Pulled", "message": f'Successfully pulled image "{c.image}"'},
                {**event, "name": "Started", "message": "Started container"},
            ]
            for c in group.containers
        }

    def observe(self, group: GroupDefinition) -> dict[str, dict[str, Any]] | None:
        with self._lock:
            started = self._started.get(group.key)
        if started is None:
            return None
        state: dict[str, Any]
        if group.restart_policy == "Always":
            state = {"state": "Running", "startTime": started, "detailStatus": ""}
        else:
            state = {
                "state": "Terminated",
                "startTime": started,
                "finishTime": started,
                "exitCode": 0,
                "detailStatus": "Completed",
            }
        return {c.name: {"restartCount": 0, "currentState": state} for c in group.containers}

    def remove(self, key: str) -> None:
        with self._lock:
            self._started.pop(key, None)

    def logs(
        self, group: GroupDefinition, container: str, tail: int | None, timestamps: bool = False
    ) -> str | None:
        with self._lock:
            running = group.key in self._started
        return "" if running else None
