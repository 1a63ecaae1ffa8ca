"""What one apply did, as data: its steps, its Batch tasks by node, its container groups
and its cost, with wall-clock times (seconds since the epoch, UTC).

``runner apply`` leaves one per spec (``run_record.py``) and ``runner report`` reads it
back; ``render/report_html.py`` draws it. It holds what the engine's events and Batch's
task list say, and never a command line, an environment value or a secret: those are
never in the events, and the task list is read with a ``$select`` that leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from runner.plan.cost_lines import CostIncurred, money
from runner.plan.model import Address

RECORD_VERSION = "1"
T = TypeVar("T")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class StepSpan(_Frozen):
    address: str
    step: str  # create, upload, add tasks, poll, collect, teardown...
    started: float | None = None  # None: skipped before it started
    finished: float | None = None  # None: it had not finished when the run ended
    outcome: str = "running"  # ok, failed, skipped, cancelled; running when unfinished
    message: str = ""
    retries: int = 0  # temporary errors retried while it ran


class TaskSpan(_Frozen):
    id: str
    state: str
    node: str | None = None
    created: float | None = None
    started: float | None = None  # the last attempt's start, as Batch keeps it
    finished: float | None = None
    exit_code: int | None = None
    result: str | None = None  # success, failure
    retries: int = 0
    requeues: int = 0
    failure: str | None = None

    @property
    def status(self) -> str:
        """succeeded, failed, running or waiting (never started)."""
        if self.state == "completed":
            failed = self.result == "failure" or (self.exit_code not in (0, None))
            return "failed" if failed else "succeeded"
        return "running" if self.state == "running" and self.started else "waiting"


class JobTimeline(_Frozen):
    spec: str  # the BatchJob's address
    job: str
    pool: str
    tasks: tuple[TaskSpan, ...] = ()
    read_at: float | None = None
    note: str = ""  # why the tasks are missing or where they came from


class GroupRun(_Frozen):
    address: str
    step: str = ""
    started: float | None = None
    finished: float | None = None
    outcome: str = "running"
    message: str = ""
    exit_codes: dict[str, int | None] = {}


class RunRecord(_Frozen):
    format_version: str = RECORD_VERSION
    command: str = "apply"
    workspace: str
    specs: tuple[str, ...] = ()  # the addresses of the specs applied
    paths: tuple[str, ...] = ()  # their files, relative to the workspace's root
    started: float
    finished: float | None = None
    ok: bool = False
    cancelled: bool = False
    errors: tuple[str, ...] = ()
    counts: dict[str, dict[str, int]] = {}  # by summary address: "apply", "BatchJob/x"
    removed: tuple[str, ...] = ()
    left: tuple[str, ...] = ()
    cost: CostIncurred | None = None
    steps: tuple[StepSpan, ...] = ()
    groups: tuple[GroupRun, ...] = ()
    jobs: tuple[JobTimeline, ...] = ()

    @property
    def ended(self) -> float:
        """The latest time the record knows of: the run's end, or a task's or step's."""
        times = [self.started, self.finished or 0.0]
        times += [s.finished or s.started or 0.0 for s in self.steps]
        times += [t.finished or t.started or 0.0 for j in self.jobs for t in j.tasks]
        return max(times)

    def only(self, spec: str) -> RunRecord:
        """The parts of one spec (its address): what ``runner report SPEC`` shows."""
        mine = _Belongs(spec)
        counts = {k: v for k, v in self.counts.items() if k == spec}
        if self.specs == (spec,):
            counts = dict(self.counts)
        cost = self.cost
        if cost is not None:
            lines = tuple(ln for ln in cost.lines if mine(ln.address))
            cost = cost.model_copy(
                update={
                    "lines": lines,
                    "total": money(sum(ln.cost or 0.0 for ln in lines)),
                    "complete": all(ln.cost is not None for ln in lines),
                }
            )
        paths = tuple(p for s, p in zip(self.specs, self.paths, strict=False) if s == spec)
        return self.model_copy(
            update={
                "specs": (spec,),
                "paths": paths,
                "counts": counts,
                "removed": tuple(a for a in self.removed if mine(a)),
                "left": tuple(a for a in self.left if mine(a)),
                "cost": cost,
                "steps": tuple(s for s in self.steps if mine(s.address)),
                "groups": tuple(g for g in self.groups if mine(g.address)),
                "jobs": tuple(j for j in self.jobs if j.spec == spec),
            }
        )


class _Belongs:
    """Whether an address (or ``"<address> (why)"``) is a piece of a spec; a container
    group's resource group belongs to it too."""

    def __init__(self, spec: str) -> None:
        self.spec = Address.parse(spec)
        self.rg = self.spec.scope if self.spec.kind == "ContainerGroup" else None

    def __call__(self, text: str) -> bool:
        address = Address.parse(text.split(" ", 1)[0])
        if self.rg is not None and address == Address.resource_group(self.rg):
            return True
        return address.root == self.spec


def combined(records: Sequence[RunRecord]) -> RunRecord:
    """One record of several (the specs of ``runner report PATH`` with many): the pieces
    of each side by side, over the span of them all."""
    if len(records) == 1:
        return records[0]
    first = records[0]
    costs = [r.cost for r in records if r.cost is not None]
    cost = None
    if costs:
        lines = tuple(ln for c in costs for ln in c.lines)
        notes = dict.fromkeys(c.note for c in costs if c.note)
        cost = costs[0].model_copy(
            update={
                "lines": lines,
                "total": money(sum(c.total for c in costs)),
                "complete": all(c.complete for c in costs),
                "note": "; ".join(notes),
            }
        )
    finished = [r.finished for r in records]
    return first.model_copy(
        update={
            "specs": _all(r.specs for r in records),
            "paths": _all(r.paths for r in records),
            "started": min(r.started for r in records),
            "finished": None if None in finished else max(f or 0.0 for f in finished),
            "ok": all(r.ok for r in records),
            "cancelled": any(r.cancelled for r in records),
            "errors": _all(r.errors for r in records),
            "counts": {k: v for r in records for k, v in r.counts.items()},
            "removed": _all(r.removed for r in records),
            "left": _all(r.left for r in records),
            "cost": cost,
            "steps": _all(r.steps for r in records),
            "groups": _all(r.groups for r in records),
            "jobs": tuple(j for r in records for j in r.jobs),
        }
    )


def _all(parts: Iterable[tuple[T, ...]]) -> tuple[T, ...]:
    """Concatenated, each once: pieces two specs share (a resource group) appear once."""
    seen: dict[str, T] = {}
    for part in parts:
        for x in part:
            seen.setdefault(x.model_dump_json() if isinstance(x, BaseModel) else repr(x), x)
    return tuple(seen.values())
