"""The record an apply leaves, from engine events given as data: steps with wall-clock
times, retries and skips; a job's tasks read once, as its teardown starts, or a note of
why they could not be; records kept per spec and read back; ``runner report`` reading
the latest run without reaching a target when the job is gone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runner.backends.batch_timeline import TaskRun
from runner.engine.events import (
    RunSummary,
    StepFinished,
    StepRetrying,
    StepStarted,
    TeardownReport,
)
from runner.engine.result import RunResult
from runner.engine.run_model import RunRecord, StepSpan, combined
from runner.engine.run_reading import NoRunRecorded, latest_run
from runner.engine.run_record import RunRecorder, keep, kept, record_path
from runner.errors import TemporaryError
from runner.spec.loader import LoadedSpec
from runner.spec.models import BatchJob, ContainerGroup

JOB = "BatchJob/words/job/j"
TEARDOWN = "BatchJob/words/teardown"
WALL = 1_800_000_000.0  # the wall clock when the monotonic one reads 0


def _batch() -> LoadedSpec:
    spec = BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": "words",
            "pool": {"id": "p"},
            "job": {"id": "j"},
            "tasks": {"forEachFile": "*.txt", "id": "t-{{ file.stem }}", "command": "true"},
            "collect": {"dir": "out"},
        }
    )
    return LoadedSpec(spec=spec, path=Path("specs/words.yaml"), index=0)


def _group() -> LoadedSpec:
    spec = ContainerGroup.model_validate(
        {
            "kind": "ContainerGroup",
            "name": "web",
            "resourceGroup": "rg",
            "containers": [{"name": "a", "image": "nginx"}],
        }
    )
    return LoadedSpec(spec=spec, path=Path("specs/web.yaml"), index=0)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(WALL + seconds, UTC)


RUNS = [
    TaskRun(
        id="t-a",
        state="completed",
        started=_at(3),
        ended=_at(4),
        node="n1",
        exit_code=0,
        result="success",
    ),
    TaskRun(
        id="t-b",
        state="completed",
        started=_at(3),
        ended=_at(5),
        node="n2",
        exit_code=1,
        result="failure",
        retries=1,
    ),
]


def _recorder(
    tmp_path: Path, read: Any = None, specs: list[LoadedSpec] | None = None
) -> RunRecorder:
    return RunRecorder(
        specs or [_batch()],
        "ws",
        read or (lambda _spec: RUNS),
        root=tmp_path,
        wall=lambda: WALL,
        monotonic=lambda: 0.0,
    )


def _run(recorder: RunRecorder) -> RunRecord:
    emit = recorder.watching(lambda _event: None)
    for event in (
        StepStarted(address="BatchJob/words/pool/p", step="create", at=1.0),
        StepFinished(address="BatchJob/words/pool/p", step="create", outcome="ok", at=2.0),
        StepStarted(address=JOB, step="add tasks", at=2.0),
        StepFinished(address=JOB, step="add tasks", outcome="ok", at=2.5),
        StepStarted(address=JOB, step="poll", at=2.5),
        StepRetrying(address=JOB, delay=1.0, reason="503", at=3.0),
        StepFinished(address=JOB, step="poll", outcome="failed", message="1 failed", at=6.0),
        StepFinished(
            address="BatchJob/words/collect/out", step="collect", outcome="skipped", at=6.0
        ),
        StepStarted(address=TEARDOWN, step="teardown", at=6.0),
        TeardownReport(address=TEARDOWN, removed=("BatchJob/words/pool/p",), at=7.0),
        StepFinished(address=TEARDOWN, step="teardown", outcome="ok", at=7.0),
        RunSummary(address="BatchJob/words", counts={"failed": 1}, ok=False, at=7.0),
    ):
        emit(event)
    result = RunResult(ok=False, errors=["task t-b failed"], removed=["BatchJob/words/pool/p"])
    return recorder.finish(result)


def test_steps_get_wall_clock_times_retries_and_skips(tmp_path: Path) -> None:
    record = _run(_recorder(tmp_path))

    spans = {(s.address, s.step): s for s in record.steps}
    poll = spans[(JOB, "poll")]
    assert (poll.started, poll.finished) == (WALL + 2.5, WALL + 6.0)
    assert (poll.outcome, poll.message, poll.retries) == ("failed", "1 failed", 1)
    assert spans[(JOB, "add tasks")].retries == 0
    skipped = spans[("BatchJob/words/collect/out", "collect")]
    assert (skipped.started, skipped.outcome) == (None, "skipped")
    assert record.counts == {"BatchJob/words": {"failed": 1}}
    assert (record.ok, record.errors, record.paths) == (
        False,
        ("task t-b failed",),
        ("specs/words.yaml",),
    )


def test_the_tasks_are_read_once_as_teardown_starts(tmp_path: Path) -> None:
    reads: list[str] = []

    def read(spec: BatchJob) -> list[TaskRun]:
        reads.append(spec.job.id)
        return RUNS

    (job,) = _run(_recorder(tmp_path, read)).jobs

    assert reads == ["j"]
    assert [(t.id, t.node, t.started, t.status, t.retries) for t in job.tasks] == [
        ("t-a", "n1", WALL + 3, "succeeded", 0),
        ("t-b", "n2", WALL + 3, "failed", 1),
    ]


def test_tasks_that_cannot_be_read_leave_a_note_and_the_run_goes_on(tmp_path: Path) -> None:
    def read(_spec: BatchJob) -> list[TaskRun]:
        raise TemporaryError("the account is busy", delay=0.0)

    (job,) = _run(_recorder(tmp_path, read)).jobs

    assert job.tasks == ()
    assert job.note.startswith("the tasks could not be read: ")


def test_a_record_is_kept_per_spec_and_read_back_for_that_spec_only(tmp_path: Path) -> None:
    recorder = _recorder(tmp_path, specs=[_batch(), _group()])
    emit = recorder.watching(lambda _event: None)
    emit(StepStarted(address="ResourceGroup/rg", step="create", at=0.5))
    emit(StepFinished(address="ResourceGroup/rg", step="create", outcome="ok", at=0.7))
    emit(StepStarted(address="ContainerGroup/rg/web", step="create", at=1.0))
    emit(StepFinished(address="ContainerGroup/rg/web", step="create", outcome="ok", at=3.0))
    record = _run(recorder)
    keep(record, tmp_path)

    web = kept("ws", "ContainerGroup/rg/web", tmp_path)
    words = kept("ws", "BatchJob/words", tmp_path)
    assert web is not None and words is not None
    assert {s.address for s in web.steps} == {"ResourceGroup/rg", "ContainerGroup/rg/web"}
    assert [g.address for g in web.groups] == ["ContainerGroup/rg/web"] and web.jobs == ()
    assert "ContainerGroup/rg/web" not in {s.address for s in words.steps}
    assert len(words.jobs) == 1 and words.paths == ("specs/words.yaml",)
    both = combined([words, web])
    assert len(both.steps) == len(record.steps)


def test_record_files_tell_specs_apart_and_ignore_case_as_arm_does(tmp_path: Path) -> None:
    first = record_path("ws", "ContainerGroup/a-b/c", tmp_path)
    assert first != record_path("ws", "ContainerGroup/a/b-c", tmp_path)
    assert first == record_path("ws", "ContainerGroup/A-B/C", tmp_path)
    assert first.parent == tmp_path / ".runner" / "runs" / "ws"


def test_report_of_a_torn_down_run_needs_no_target(tmp_path: Path) -> None:
    keep(_run(_recorder(tmp_path)), tmp_path)

    def no_target() -> Any:
        raise AssertionError("the job was torn down: nothing to read again")

    record = latest_run([_batch()], "ws", no_target, root=tmp_path)
    assert [t.id for t in record.jobs[0].tasks] == ["t-a", "t-b"]


def test_report_without_any_record_says_so(tmp_path: Path) -> None:
    with pytest.raises(NoRunRecorded, match="no run of ContainerGroup/rg/web is recorded"):
        latest_run([_group()], "ws", lambda: None, root=tmp_path)


def test_unfinished_steps_stay_running() -> None:
    span = StepSpan(address=JOB, step="poll", started=WALL)
    assert span.outcome == "running" and span.finished is None
