"""JSON rendering: plans as data, events as one JSON object per line, a final summary.

``runner plan --output json`` prints the plan alone (``Plan.model_dump``, which carries
``format_version``). Commands that run something print JSON lines, each with a ``type``:
``plan``, then one per engine event (``StepStarted``, ``StepFinished``, ...), then
``result``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
from collections.abc import Sequence
from typing import IO, Any

from runner.engine.events import Event
from runner.plan.model import Plan
from runner.render.base import ResultLike, StatusRowLike, summary_of
from runner.render.redact import masked


def event_dict(event: Event) -> dict[str, Any]:
    data = masked(dataclasses.asdict(event))
    if data.get("workflow_step") is None:
        data.pop("workflow_step", None)  # not a workflow's: events keep the shape they had
    return {"type": type(event).__name__, **data}


def plan_dict(plan: Plan) -> dict[str, Any]:
    data: dict[str, Any] = masked(plan.model_dump(mode="json"))
    return data


class JsonRenderer:
    def __init__(self, stream: IO[str] | None = None, *, lines: bool = True) -> None:
        self.stream = stream or sys.stdout
        self.lines = lines  # False: a lone document (``plan``, ``status``), not JSON lines
        # Events come from worker threads; an RLock, since the Ctrl-C handler may write too.
        self._lock = threading.RLock()

    def __enter__(self) -> JsonRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.flush()

    def _write(self, obj: Any) -> None:
        text = json.dumps(obj, default=str, ensure_ascii=False) + "\n"
        with self._lock:
            self.stream.write(text)
            self.stream.flush()

    def plan(self, plan: Plan) -> None:
        self._write({"type": "plan", "plan": plan_dict(plan)} if self.lines else plan_dict(plan))

    def emit(self, event: Event) -> None:
        self._write(event_dict(event))

    def result(self, result: ResultLike, *, command: str) -> None:
        self._write(dict(summary_of(result, command)))

    def status(self, rows: Sequence[StatusRowLike]) -> None:
        data = [
            {"address": r.address, "kind": r.kind, "state": r.state, "detail": r.detail}
            for r in rows
        ]
        self._write({"type": "status", "resources": data} if self.lines else data)

    def note(self, text: str, **data: Any) -> None:
        self._write({"type": "note", "message": text, **data})

    def cancelled(self, removed: Sequence[str], left: Sequence[str]) -> None:
        self._write({"type": "cancelled", "removed": list(removed), "left": list(left)})
