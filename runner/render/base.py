"""What every renderer offers the CLI, and the shapes of the engine results it draws.

The engine's ``RunResult`` and ``StatusRow`` are read through protocols so renderers stay
testable with plain data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from runner.engine.events import Event
from runner.plan.model import Plan


class ResultLike(Protocol):
    ok: bool
    counts: dict[str, int]
    removed: list[str]
    left: list[str]
    outputs: list[str]
    errors: list[str]


class StatusRowLike(Protocol):
    @property
    def address(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def detail(self) -> dict[str, Any]: ...


class Renderer(Protocol):
    """Used as a context manager around a run, so live views start and stop cleanly."""

    def __enter__(self) -> Renderer: ...

    def __exit__(self, *exc: object) -> None: ...

    def plan(self, plan: Plan) -> None: ...

    def emit(self, event: Event) -> None: ...

    def result(self, result: ResultLike, *, command: str) -> None: ...

    def status(self, rows: Sequence[StatusRowLike]) -> None: ...

    def note(self, text: str, **data: Any) -> None: ...

    def cancelled(self, removed: Sequence[str], left: Sequence[str]) -> None: ...


def summary_of(result: ResultLike, command: str) -> Mapping[str, Any]:
    cost = getattr(result, "cost", None)  # a destroy's result has none
    return {
        "type": "result",
        "command": command,
        "ok": result.ok,
        "counts": dict(result.counts),
        "removed": list(result.removed),
        "left": list(result.left),
        "outputs": list(result.outputs),
        "errors": list(result.errors),
        **({"cost": cost.model_dump(mode="json")} if cost is not None else {}),
    }
