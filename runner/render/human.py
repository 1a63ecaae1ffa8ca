"""Rich rendering for people: plans, progress from engine events, results, status tables.

On a terminal the steps in flight sit in a live view with their elapsed time and finished
steps scroll above it; elsewhere (CI logs, pipes) every event is one plain line and a
timer prints "Still creating... [20s elapsed]" for long steps, as Terraform's hook does.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from runner.engine.events import (
    Event,
    RunSummary,
    StepFinished,
    StepProgress,
    StepRetrying,
    StepStarted,
    TeardownReport,
)
from runner.plan.model import Plan
from runner.render.base import ResultLike, StatusRowLike
from runner.render.cost_text import incurred_lines
from runner.render.plan_text import plan_lines
from runner.render.status_table import STATUS_COLUMNS, status_cells
from runner.render.wording import command_title, step_verbs

PIPE_WIDTH = 200
TABLE_ROWS = 40
OUTCOME_STYLES = {"ok": "green", "failed": "red", "cancelled": "yellow", "skipped": "dim"}


def elapsed(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 60}m{whole % 60}s" if whole >= 60 else f"{whole}s"


def clock(seconds: float) -> str:
    """``0:42``, ``20:00``, ``1:05:00``: a stopwatch reading, for elapsed-of-timeout."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# Counts that are times, drawn as "0:42 of 20:00" rather than listed with the others.
TIME_KEYS = ("elapsed", "timeout")


def progress_text(message: str, counts: dict[str, int]) -> str:
    """One progress line: the engine's message when it has one (it already says what the
    counts say), else the counts as "3 active, 1 running"; then elapsed of timeout."""
    parts = [message] if message else []
    if not message:
        listed = ", ".join(f"{v} {k}" for k, v in counts.items() if k not in TIME_KEYS)
        parts += [listed] if listed else []
    if "elapsed" in counts:
        took = clock(counts["elapsed"])
        parts.append(f"{took} of {clock(counts['timeout'])}" if "timeout" in counts else took)
    return "; ".join(parts)


def _default_console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Logs and pipes have no width; rich's 80 columns would cut addresses short.
        console = Console(highlight=False, width=PIPE_WIDTH)
    return console


def _relative(path: str) -> str:
    try:
        return os.path.relpath(path) if os.path.isabs(path) else path
    except ValueError:
        return path


class _InFlight:
    """The live view's body: steps running now, with their elapsed time at each refresh."""

    def __init__(self, owner: HumanRenderer) -> None:
        self.owner = owner

    def __rich__(self) -> RenderableType:
        now = time.monotonic()
        with self.owner.lock:
            running = list(self.owner.running.items())
        rows = []
        for (address, step), started in running:
            label = Text(f"{step_verbs(step)[0]} {address} [{elapsed(now - started)}]")
            rows.append(Spinner("dots", label))
        return Group(*rows)


class HumanRenderer:
    def __init__(
        self,
        console: Console | None = None,
        *,
        live: bool | None = None,
        interval: float = 10.0,
    ) -> None:
        self.console = console or _default_console()
        self.live_view = self.console.is_terminal if live is None else live
        self.interval = interval
        self.lock = threading.RLock()
        self.running: dict[tuple[str, str], float] = {}
        self.finished: list[StepFinished] = []
        self.durations: dict[tuple[str, str], float] = {}
        self.summary: RunSummary | None = None
        self._live: Live | None = None
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None

    # -- lifetime ---------------------------------------------------------------------

    def __enter__(self) -> HumanRenderer:
        if self.live_view:
            self._live = Live(
                _InFlight(self), console=self.console, refresh_per_second=4, transient=True
            )
            self._live.start()
        else:
            self._timer = threading.Thread(target=self._tick, name="progress-timer", daemon=True)
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._live is not None:
            self._live.stop()
            self._live = None
        if self._timer is not None:
            self._timer.join(timeout=1)

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            for line in self.still_running(time.monotonic()):
                self._line(line)

    def still_running(self, now: float) -> list[str]:
        """The timer's lines: one per step in flight, with its elapsed time at ``now``."""
        with self.lock:
            running = list(self.running.items())
        return [
            f"{address}: Still {step_verbs(step)[0].lower()}... [{elapsed(now - started)} elapsed]"
            for (address, step), started in running
        ]

    def _line(self, text: str, style: str | None = None) -> None:
        with self.lock:
            self.console.print(Text(text, style=style or ""), soft_wrap=True)

    # -- plan -------------------------------------------------------------------------

    def plan(self, plan: Plan) -> None:
        for line in plan_lines(plan):
            self.console.print(Text(line.text, style=line.style or ""), soft_wrap=True)

    # -- events -----------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            with self.lock:
                self.running[(event.address, event.step)] = event.at
            self._line(f"{event.address}: {step_verbs(event.step)[0]}...")
        elif isinstance(event, StepProgress):
            self._line(f"{event.address}: {progress_text(event.message, event.counts)}", "dim")
        elif isinstance(event, StepRetrying):
            self._line(
                f"{event.address}: retrying in {event.delay:.1f}s "
                f"(attempt {event.attempt}): {event.reason}",
                "yellow",
            )
        elif isinstance(event, StepFinished):
            self._finished(event)
        elif isinstance(event, TeardownReport):
            self._teardown(event.removed, event.left)
        elif isinstance(event, RunSummary):
            self.summary = event

    def _finished(self, event: StepFinished) -> None:
        key = (event.address, event.step)
        with self.lock:
            started = self.running.pop(key, event.at)
            self.durations[key] = event.at - started
            self.finished.append(event)
        took = elapsed(event.at - started)
        if event.outcome == "ok":
            text = f"{event.address}: {step_verbs(event.step)[1]} after {took}"
        else:
            text = f"{event.address}: {event.step} {event.outcome} after {took}"
        if event.message:
            text += f": {event.message}"
        self._line(text, OUTCOME_STYLES.get(event.outcome))

    def _teardown(self, removed: Sequence[str], left: Sequence[str]) -> None:
        if removed:
            self._line("Teardown removed: " + ", ".join(removed))
        if left:
            self._line("Teardown left in place: " + ", ".join(left), "yellow")

    # -- results ----------------------------------------------------------------------

    def result(self, result: ResultLike, *, command: str) -> None:
        if self.finished:
            table = Table(title=None, show_edge=False, header_style="bold")
            for column in ("Resource", "Step", "Outcome", "Time", "Message"):
                table.add_column(column, overflow="fold")
            shown = self.finished
            if len(shown) > TABLE_ROWS:  # many groups: the failures, then a count of the rest
                shown = [ev for ev in self.finished if ev.outcome != "ok"][:TABLE_ROWS]
            for ev in shown:
                took = self.durations.get((ev.address, ev.step), 0.0)
                style = OUTCOME_STYLES.get(ev.outcome, "")
                table.add_row(
                    ev.address, ev.step, Text(ev.outcome, style=style), elapsed(took), ev.message
                )
            self.console.print()
            self.console.print(table)
            if len(shown) < len(self.finished):
                self._line(f"... and {len(self.finished) - len(shown)} more steps, all ok")
        for path in result.outputs:
            self._line(f"Wrote {_relative(path)}")
        for error in result.errors:
            self._line(f"Error: {error}", "red")
        cost = getattr(result, "cost", None)
        if cost is not None and cost.lines:
            for text, cost_style in incurred_lines(cost):
                self._line(text, cost_style)
        counts = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in result.counts.items())
        verdict = "complete" if result.ok else "failed"
        style = "bold green" if result.ok else "bold red"
        title = command_title(command)
        self._line(f"{title} {verdict}!" + (f" {counts}." if counts else ""), style)

    def status(self, rows: Sequence[StatusRowLike]) -> None:
        if not rows:
            self._line("No resources found.")
            return
        table = Table(show_edge=False, header_style="bold")
        for column in STATUS_COLUMNS:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*status_cells(row))
        self.console.print(table)

    def note(self, text: str, **data: Any) -> None:
        self._line(text)

    def cancelled(self, removed: Sequence[str], left: Sequence[str]) -> None:
        self._line("Interrupted: teardown has run.", "bold yellow")
        self._line("Removed: " + (", ".join(removed) or "nothing"))
        self._line("Left: " + (", ".join(left) or "nothing"), "yellow" if left else None)
