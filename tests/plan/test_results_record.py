"""The results record as the planner reads it: a task whose identity is recorded and whose
outputs are still in the output container, unchanged, is done; when every task is done
nothing is made; a record of another workspace, a changed output or ``--rerun`` counts
for nothing. Pure: desired and observed state are data."""

from __future__ import annotations

from pathlib import Path

from test_batch_plan import WORKSPACE, md5_of

from runner.plan.action import Action
from runner.plan.batch import ObservedBatch, ObservedBlob, diff_desired
from runner.plan.batch_desired import DesiredBatch, desired_batch
from runner.plan.batch_inputs import BatchInputs, InputFile
from runner.plan.batch_observed import ObservedTask
from runner.plan.ownership import Ownership
from runner.plan.results_record import (
    RecordedOutput,
    RecordedTask,
    ResultsRecord,
    record_after,
    still_done,
)
from runner.spec.models import BatchJob

SPEC = BatchJob.model_validate(
    {
        "kind": "BatchJob",
        "name": "tw",
        "pool": {"id": "tw-pool", "nodes": 1},
        "job": {"id": "tw-job"},
        "tasks": {
            "forEachFile": "*.txt",
            "id": "t-{{ file.stem }}",
            "command": "count {{ file.name }}",
            "outputs": ["{{ file.stem }}.out"],
        },
        "collect": {"dir": "out"},
    }
)
OUTPUT = SPEC.container_name("output")
OURS = Ownership(managed_by="runner", spec="tw", workspace=WORKSPACE)


def desired(**texts: str) -> DesiredBatch:
    files = tuple(
        InputFile(path=Path(f"/specs/{n}.txt"), md5=md5_of(t), size=len(t))
        for n, t in texts.items()
    )
    return desired_batch(SPEC, BatchInputs(inputs=files))


def blob(name: str, md5: str | None = "m", etag: str | None = "e") -> ObservedBlob:
    return ObservedBlob(container=OUTPUT, name=name, md5=md5, etag=etag)


def recorded_for(d: DesiredBatch) -> ResultsRecord:
    return ResultsRecord(
        tasks={
            t.id: RecordedTask(
                identity=t.identity,
                finished="2026-12-01T10:00:00+00:00",
                outputs=(RecordedOutput(blob=f"{t.id}/{t.outputs[0]}", etag="e", md5="m"),),
            )
            for t in d.tasks
        }
    )


def observed(
    d: DesiredBatch, record: ResultsRecord | None, owner: Ownership = OURS
) -> ObservedBatch:
    listing = {f"{t.id}/{t.outputs[0]}": blob(f"{t.id}/{t.outputs[0]}") for t in d.tasks}
    return ObservedBatch(containers={OUTPUT: owner}, outputs=listing, record=record)


def actions(changes: list) -> dict[str, str]:
    return {str(c.address): str(c.action) for c in changes}


def test_every_task_done_makes_nothing_at_all() -> None:
    d = desired(a="one", b="two")
    changes = diff_desired(d, observed(d, recorded_for(d)), workspace=WORKSPACE)
    assert all(c.action is Action.NOOP for c in changes)
    pool = next(c for c in changes if c.address.part and c.address.part.kind == "pool")
    assert pool.reason.startswith("not needed")
    tasks = [c for c in changes if c.address.part and c.address.part.kind == "task"]
    assert len(tasks) == 2 and all("done in an earlier run" in c.reason for c in tasks)


def test_a_changed_input_runs_its_task_only_and_uploads_only_its_file() -> None:
    before = desired(a="one", b="two")
    now = desired(a="one", b="changed")
    found = actions(diff_desired(now, observed(before, recorded_for(before)), workspace=WORKSPACE))
    assert found["BatchJob/tw/task/tw-job/t-a"] == "no-op"
    assert found["BatchJob/tw/task/tw-job/t-b"] == "create"
    assert found[f"BatchJob/tw/blob/{SPEC.container_name('input')}/b.txt"] == "create"
    assert found[f"BatchJob/tw/blob/{SPEC.container_name('input')}/a.txt"] == "no-op"
    assert found["BatchJob/tw/pool/tw-pool"] == "create"


def test_rerun_and_a_record_of_another_workspace_count_for_nothing() -> None:
    d = desired(a="one")
    for changes in (
        diff_desired(d, observed(d, recorded_for(d)), workspace=WORKSPACE, rerun=True),
        diff_desired(
            d,
            observed(d, recorded_for(d), Ownership(managed_by="runner", spec="tw", workspace="x")),
            workspace=WORKSPACE,
        ),
    ):
        assert actions(changes)["BatchJob/tw/task/tw-job/t-a"] == "create"


def test_an_output_gone_or_rewritten_since_is_not_a_result() -> None:
    d = desired(a="one")
    task = d.tasks[0]
    rec = recorded_for(d).tasks[task.id]
    name = f"{task.id}/{task.outputs[0]}"
    assert still_done(task, rec, {name: blob(name)})
    assert not still_done(task, rec, {})
    assert not still_done(task, rec, {name: blob(name, md5="other")})
    # Without a Content-MD5 in the listing the ETag tells.
    assert still_done(task, rec, {name: blob(name, md5=None)})
    assert not still_done(task, rec, {name: blob(name, md5=None, etag="other")})


def test_the_record_after_a_run_keeps_what_holds_and_adds_what_succeeded() -> None:
    d = desired(a="one", b="two", c="three")
    a, b, c = d.tasks
    kept = {a.id: recorded_for(d).tasks[a.id]}
    listing = {f"{t.id}/{t.outputs[0]}": blob(f"{t.id}/{t.outputs[0]}", md5=None) for t in d.tasks}
    listing[f"{b.id}/stdout.txt"] = blob(f"{b.id}/stdout.txt")
    results = {
        b.id: ObservedTask(id=b.id, state="completed", exit_code=0, identity=b.identity),
        c.id: ObservedTask(id=c.id, state="completed", exit_code=1, identity=c.identity),
    }
    md5s = {f"{b.id}/{b.outputs[0]}": "local-md5"}
    record = record_after(d.tasks, kept, results, listing, md5s, "now")
    assert set(record.tasks) == {a.id, b.id}  # the failed task is no result
    assert record.tasks[b.id].outputs == (
        RecordedOutput(blob=f"{b.id}/{b.outputs[0]}", etag="e", md5="local-md5"),
    )
    assert ResultsRecord.from_json(record.to_json()) == record
    assert ResultsRecord.from_json("not json") == ResultsRecord()
