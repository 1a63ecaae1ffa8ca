"""A run record laid out for its report page: positions on one time axis (per cent of
the run's span), tasks packed into lanes by node, durations and times as text.

Pure: a ``RunRecord`` in, plain values out, so the page's geometry is tested as data.
A node's lanes are its tasks packed greedily by start time: a task takes the first lane
free by its start, so a node running four tasks at a time shows four lanes, and a
thousand tasks on a few nodes stay a few dozen thin rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from runner.engine.run_model import GroupRun, JobTimeline, RunRecord, StepSpan, TaskSpan
from runner.plan.cost_lines import CostIncurred
from runner.render.cost_text import amount, source_text

MIN_WIDTH = 0.25  # per cent: the shortest bar stays visible and can be pointed at
NOT_RUN = "not started"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.2f}s" if seconds < 1 else f"{seconds:.1f}s"
    s = round(seconds)
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def clock(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _time_of_day(stamp: float | None) -> str:
    if stamp is None:
        return ""
    return datetime.fromtimestamp(stamp, UTC).strftime("%H:%M:%S")


@dataclass(frozen=True)
class Axis:
    start: float
    span: float  # seconds, never 0

    def at(self, stamp: float) -> float:
        return round(max(0.0, min(100.0, (stamp - self.start) / self.span * 100)), 3)

    def bar(self, start: float, end: float) -> tuple[float, float]:
        left = self.at(start)
        width = max(MIN_WIDTH, self.at(end) - left)
        return min(left, 100 - MIN_WIDTH), round(width, 3)

    def ticks(self, count: int = 8) -> list[tuple[float, str]]:
        """Round steps (1, 2, 5 times a power of ten seconds), about ``count`` of them."""
        raw = self.span / count
        power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
        step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
        n = int(self.span // step) + 1
        return [
            (self.at(self.start + i * step), "+" + duration(i * step) if i else "0")
            for i in range(n)
        ]


@dataclass(frozen=True)
class Bar:
    """One step, group or task on the axis."""

    key: str  # the task's id, the step's address
    label: str
    state: str  # a CSS class: succeeded, failed, running, waiting, skipped, cancelled
    left: float
    width: float
    title: str  # what hovering it shows
    lane: int = 0
    retries: int = 0
    duration: str = ""
    node: str = ""


@dataclass(frozen=True)
class NodeRow:
    node: str
    lanes: int
    bars: tuple[Bar, ...]
    busy: str  # the sum of its tasks' durations
    failed: int


@dataclass(frozen=True)
class JobView:
    spec: str
    job: str
    pool: str
    note: str
    nodes: tuple[NodeRow, ...]
    waiting: tuple[Bar, ...]  # tasks that never started: chips, not bars
    tasks: tuple[TaskSpan, ...]
    problems: tuple[TaskSpan, ...]  # failed, retried or requeued
    counts: dict[str, int] = field(default_factory=dict)


_OUTCOMES = {"ok": "succeeded", "failed": "failed", "skipped": "skipped"}


def _step_state(outcome: str) -> str:
    return _OUTCOMES.get(outcome, outcome)


def _end(record: RunRecord) -> float:
    return record.ended


def step_bars(record: RunRecord, axis: Axis) -> list[Bar]:
    steps = sorted(record.steps, key=lambda s: (s.started is None, s.started or 0.0))
    return [_step_bar(s, axis, _end(record)) for s in steps]


def _step_bar(step: StepSpan | GroupRun, axis: Axis, end: float) -> Bar:
    start = step.started if step.started is not None else step.finished or end
    stop = step.finished if step.finished is not None else end
    left, width = axis.bar(start, stop)
    took = duration(stop - start) if step.started is not None else ""
    parts = [step.address, step.step, step.outcome, took, step.message]
    return Bar(
        key=step.address,
        label=f"{step.address} {step.step}".strip(),
        state=_step_state(step.outcome),
        left=left,
        width=width,
        title=" · ".join(p for p in parts if p),
        retries=getattr(step, "retries", 0),
        duration=took,
    )


def group_bars(record: RunRecord, axis: Axis) -> list[tuple[Bar, GroupRun]]:
    return [(_step_bar(g, axis, _end(record)), g) for g in record.groups]


def _task_title(t: TaskSpan, end: float) -> str:
    took = duration((t.finished or end) - t.started) if t.started else ""
    exit_code = f"exit {t.exit_code}" if t.exit_code is not None else ""
    retried = f"{t.retries} retr{'y' if t.retries == 1 else 'ies'}" if t.retries else ""
    requeued = f"requeued {t.requeues}x" if t.requeues else ""
    when = f"{_time_of_day(t.started)}–{_time_of_day(t.finished)}" if t.started else ""
    parts = [t.id, t.node or "", t.status, exit_code, took, retried, requeued, when]
    return " · ".join(p for p in (*parts, t.failure or "") if p)


def _lanes(tasks: Sequence[TaskSpan], end: float) -> list[tuple[TaskSpan, int]]:
    ends: list[float] = []
    out = []
    for t in sorted(tasks, key=lambda t: (t.started or 0.0, t.id)):
        start, stop = t.started or 0.0, t.finished or end
        lane = next((i for i, e in enumerate(ends) if e <= start), len(ends))
        if lane == len(ends):
            ends.append(stop)
        else:
            ends[lane] = stop
        out.append((t, lane))
    return out


def job_view(job: JobTimeline, record: RunRecord, axis: Axis) -> JobView:
    end = job.read_at or _end(record)
    started = [t for t in job.tasks if t.started is not None]
    by_node: dict[str, list[TaskSpan]] = {}
    for t in started:
        by_node.setdefault(t.node or "(no node)", []).append(t)
    nodes = []
    for node in sorted(by_node):
        bars = []
        busy = 0.0
        for t, lane in _lanes(by_node[node], end):
            assert t.started is not None
            stop = t.finished or end
            busy += max(0.0, stop - t.started)
            left, width = axis.bar(t.started, stop)
            bars.append(
                Bar(
                    key=t.id,
                    label=t.id,
                    state=t.status,
                    left=left,
                    width=width,
                    title=_task_title(t, end),
                    lane=lane,
                    retries=t.retries + t.requeues,
                    duration=duration(stop - t.started),
                    node=node,
                )
            )
        lanes = 1 + max((b.lane for b in bars), default=0)
        failed = sum(1 for b in bars if b.state == "failed")
        nodes.append(NodeRow(node, lanes, tuple(bars), duration(busy), failed))
    waiting = tuple(
        Bar(key=t.id, label=t.id, state=t.status, left=0, width=0, title=_task_title(t, end))
        for t in job.tasks
        if t.started is None
    )
    counts: dict[str, int] = {}
    for t in job.tasks:
        counts[t.status] = counts.get(t.status, 0) + 1
    problems = tuple(t for t in job.tasks if t.status == "failed" or t.retries or t.requeues)
    return JobView(
        spec=job.spec,
        job=job.job,
        pool=job.pool,
        note=job.note,
        nodes=tuple(nodes),
        waiting=waiting,
        tasks=job.tasks,
        problems=problems,
        counts=counts,
    )


def axis_of(record: RunRecord) -> Axis:
    starts = [record.started]
    starts += [s.started for s in record.steps if s.started is not None]
    starts += [t.started for j in record.jobs for t in j.tasks if t.started is not None]
    start = min(starts)
    return Axis(start=start, span=max(record.ended - start, 0.001))


@dataclass(frozen=True)
class CostView:
    total: str
    source: str
    complete: bool
    note: str
    lines: tuple[tuple[str, str, str, str, bool], ...]  # address, ran for, rate, cost, runs on


def cost_view(cost: CostIncurred | None) -> CostView | None:
    if cost is None:
        return None
    currency = cost.source.currency
    lines = tuple(
        (
            ln.address,
            duration(ln.seconds),
            f"{amount(ln.hourly)} {currency}/hour" if ln.hourly is not None else "no price",
            f"{amount(ln.cost)} {currency}" if ln.cost is not None else "",
            ln.running,
        )
        for ln in cost.lines
    )
    return CostView(
        total=f"{amount(cost.total)} {currency}",
        source=source_text(cost.source),
        complete=cost.complete,
        note=cost.note,
        lines=lines,
    )


def status_of(record: RunRecord) -> str:
    if record.cancelled:
        return "cancelled"
    if record.finished is None:
        return "not recorded"  # read from Batch alone: the apply left no record
    return "succeeded" if record.ok else "failed"
