"""The record an apply leaves for its run report: what its events said, when and where
each Batch task ran, what each container group's containers exited with, what it cost.

``RunRecorder`` sees every event of the apply (as the cost meter does) and turns their
monotonic stamps into wall-clock times. A Batch job's tasks are read once, when its
teardown step starts: the wait is over by then, and the job, which teardown may delete,
is still there (one task list, ``backends/batch_timeline.py``). The record is kept per
spec under ``<workspace root>/.runner/runs/<workspace>/``, the latest run of each, as
the workspace's lock is: it holds only what Batch and ACI forget once a run is torn down.
What still exists is read again by ``runner report`` (``run_reading.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from runner.engine.events import (
    Emit,
    Event,
    RunSummary,
    StepFinished,
    StepRetrying,
    StepStarted,
)
from runner.engine.result import RunResult
from runner.engine.retry import RetryPolicy, call_with_retry
from runner.engine.run_model import GroupRun, JobTimeline, RunRecord, StepSpan, TaskSpan
from runner.engine.workspace import workspace_root
from runner.errors import RunnerError
from runner.plan.cost import spec_address
from runner.plan.model import Address
from runner.spec.models import BatchJob, ContainerGroup, Workflow

if TYPE_CHECKING:
    from runner.backends.batch_timeline import TaskRun
    from runner.backends.target import Target
    from runner.spec.loader import LoadedSpec

# The task list is read as teardown begins, which waits for it: a few quick retries.
READ_POLICY = RetryPolicy(attempts=4, total=30.0)
CODES_FILE = "exit_codes.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

ReadTasks = Callable[[BatchJob], "list[TaskRun] | None"]


def task_spans(runs: Sequence[TaskRun]) -> tuple[TaskSpan, ...]:
    def stamp(value: datetime | None) -> float | None:
        return value.timestamp() if value is not None else None

    return tuple(
        TaskSpan(
            id=r.id,
            state=r.state,
            node=r.node,
            created=stamp(r.created),
            started=stamp(r.started),
            finished=stamp(r.ended),
            exit_code=r.exit_code,
            result=r.result,
            retries=r.retries,
            requeues=r.requeues,
            failure=r.failure,
        )
        for r in runs
    )


def batch_tasks_reader(target: Target) -> ReadTasks:
    def read(spec: BatchJob) -> list[TaskRun] | None:
        from runner.backends.batch import batch_client
        from runner.backends.batch_timeline import read_task_runs

        return read_task_runs(batch_client(spec, target), spec.job.id)

    return read


class RunRecorder:
    def __init__(
        self,
        specs: Sequence[LoadedSpec],
        workspace: str,
        read_tasks: ReadTasks,
        *,
        root: Path | None = None,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.specs = list(specs)
        self.workspace = workspace
        self.root = root or workspace_root()
        self._read_tasks = read_tasks
        self._wall = wall
        self._offset = wall() - monotonic()  # event stamp + offset = wall-clock time
        self.started = wall()
        self._lock = threading.Lock()
        self._steps: list[StepSpan] = []
        self._open: dict[tuple[str, str], int] = {}  # (address, step) -> index in _steps
        self._counts: dict[str, dict[str, int]] = {}
        self._jobs: dict[str, JobTimeline] = {}
        self._emit: Emit = lambda _e: None
        self._teardowns = {
            str(Address.batch(s.spec.name, "teardown")): s.spec
            for s in self.specs
            if isinstance(s.spec, BatchJob)
        }

    def watching(self, emit: Emit) -> Emit:
        """``emit``, with every event seen by the recorder first."""
        self._emit = emit

        def both(event: Event) -> None:
            self.see(event)
            emit(event)

        return both

    def see(self, event: Event) -> None:
        with self._lock:
            self._note(event)
        job = self._teardowns.get(event.address)
        if isinstance(event, StepStarted) and job is not None:
            timeline = self._read_job(job)  # outside the lock: other events go on meanwhile
            with self._lock:
                self._jobs[timeline.spec] = timeline

    def _note(self, event: Event) -> None:
        at = event.at + self._offset if hasattr(event, "at") else self._wall()
        if isinstance(event, StepStarted):
            self._open[(event.address, event.step)] = len(self._steps)
            self._steps.append(StepSpan(address=event.address, step=event.step, started=at))
        elif isinstance(event, StepFinished):
            index = self._open.pop((event.address, event.step), None)
            done = StepSpan(
                address=event.address,
                step=event.step,
                finished=at,
                outcome=event.outcome,
                message=event.message,
            )
            if index is None:  # skipped: it never started
                self._steps.append(done)
            else:
                began = self._steps[index]
                self._steps[index] = done.model_copy(
                    update={"started": began.started, "retries": began.retries}
                )
        elif isinstance(event, StepRetrying):
            running = [i for (a, _s), i in self._open.items() if a == event.address]
            if running:
                step = self._steps[max(running)]
                self._steps[max(running)] = step.model_copy(update={"retries": step.retries + 1})
        elif isinstance(event, RunSummary):
            self._counts[event.address] = dict(event.counts)

    def _read_job(self, spec: BatchJob) -> JobTimeline:
        address = str(Address.batch(spec.name))
        job = JobTimeline(spec=address, job=spec.job.id, pool=spec.pool.id, read_at=self._wall())
        try:
            runs = call_with_retry(
                lambda: self._read_tasks(spec),
                address=str(Address.batch(spec.name, "job", spec.job.id)),
                what="read the tasks' times",
                emit=self._emit,
                policy=READ_POLICY,
            )
        except RunnerError as exc:
            return job.model_copy(update={"note": f"the tasks could not be read: {exc}"})
        if runs is None:
            return job.model_copy(update={"note": "the job was not there to read"})
        return job.model_copy(update={"tasks": task_spans(runs)})

    def finish(self, result: RunResult | None, *, cancelled: bool = False) -> RunRecord:
        """The record of the run; ``result`` is None when the apply ended by an error."""
        with self._lock:
            steps = tuple(self._steps)
            counts = dict(self._counts)
            jobs = tuple(self._jobs.values())
        outputs = set(result.outputs) if result else set()
        return RunRecord(
            workspace=self.workspace,
            specs=tuple(
                spec_address(s.spec) for s in self.specs if not isinstance(s.spec, Workflow)
            ),
            paths=tuple(
                self._relative(s.path) for s in self.specs if not isinstance(s.spec, Workflow)
            ),
            started=self.started,
            finished=self._wall(),
            ok=bool(result and result.ok) and not cancelled,
            cancelled=cancelled,
            errors=tuple(result.errors) if result else ("the apply stopped with an error",),
            counts=counts,
            removed=tuple(result.removed) if result else (),
            left=tuple(result.left) if result else (),
            cost=result.cost if result else None,
            steps=steps,
            groups=tuple(self._groups(steps, outputs)),
            jobs=jobs,
        )

    def _groups(self, steps: Sequence[StepSpan], outputs: set[str]) -> list[GroupRun]:
        groups = {
            spec_address(s.spec): s.spec for s in self.specs if not isinstance(s.spec, Workflow)
        }
        out = []
        for step in steps:
            spec = groups.get(step.address)
            if not isinstance(spec, ContainerGroup):
                continue
            codes_file = (Path.cwd() / spec.collect_dir).resolve() / CODES_FILE
            codes: dict[str, int | None] = {}
            if str(codes_file) in outputs:
                try:
                    codes = json.loads(codes_file.read_text())
                except (OSError, ValueError):
                    codes = {}
            out.append(
                GroupRun(
                    address=step.address,
                    step=step.step,
                    started=step.started,
                    finished=step.finished,
                    outcome=step.outcome,
                    message=step.message,
                    exit_codes=codes,
                )
            )
        return out

    def _relative(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)


# --- where records are kept -----------------------------------------------------------


def runs_dir(workspace: str, root: Path | None = None) -> Path:
    return (root or workspace_root()) / ".runner" / "runs" / workspace


def record_path(workspace: str, spec: str, root: Path | None = None) -> Path:
    """One file per spec, named readably and told apart by a hash of the folded address
    (ARM names ignore case; ``a-b/c`` and ``a/b-c`` must not meet)."""
    folded = str(Address.parse(spec).folded())
    digest = hashlib.sha256(folded.encode()).hexdigest()[:10]
    return runs_dir(workspace, root) / f"{_UNSAFE.sub('-', folded)[:80]}-{digest}.json"


def keep(record: RunRecord, root: Path | None = None) -> list[Path]:
    """Writes the record of each spec of the run, replacing that spec's last one."""
    written = []
    for spec in record.specs:
        path = record_path(record.workspace, spec, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(f".{os.getpid()}.tmp")
        scratch.write_text(record.only(spec).model_dump_json(indent=1) + "\n")
        scratch.replace(path)  # a reader never sees half a record
        written.append(path)
    return written


def kept(workspace: str, spec: str, root: Path | None = None) -> RunRecord | None:
    """The latest record of a spec in the workspace, None when there is none (or it is
    unreadable: an older runner's, a torn file)."""
    path = record_path(workspace, spec, root)
    try:
        return RunRecord.model_validate_json(path.read_text())
    except (OSError, ValueError):
        return None


def recorder_for(specs: Sequence[LoadedSpec], target: Target, workspace: str) -> RunRecorder:
    return RunRecorder(specs, workspace, batch_tasks_reader(target))
