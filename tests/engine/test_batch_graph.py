"""Which steps a Batch run is made of, and in what order, from its plan's changes. Pure:
the steps are built, not run, so the accounts are never called."""

from __future__ import annotations

from pathlib import Path

from runner.backends.batch_account import BatchAccount
from runner.backends.blob_store import BlobStore
from runner.engine.batch_context import BatchContext
from runner.engine.batch_graph import found_done, job_steps
from runner.engine.batch_record import without_done
from runner.engine.executor import Step
from runner.engine.retry import Clock
from runner.plan.action import Action
from runner.plan.batch_desired import DesiredBatch, DesiredTask, LocalFile
from runner.plan.model import Change
from runner.spec.models import BatchJob

SPEC = BatchJob.model_validate(
    {
        "kind": "BatchJob",
        "name": "tw",
        "pool": {"id": "tw-pool", "nodes": 1},
        "job": {"id": "tw-job"},
        "tasks": {"forEachFile": "*.txt", "id": "t-{{ file.stem }}", "command": "true"},
        "collect": {"dir": "out/tw"},
    }
)
CONTAINERS = {r: SPEC.container_name(r) for r in ("application", "input", "output")}


def task(stem: str) -> DesiredTask:
    inp = LocalFile(Path(f"{stem}.txt"), CONTAINERS["input"], f"{stem}.txt", md5="x", size=1)
    return DesiredTask(id=f"t-{stem}", command="true", input=inp, outputs=())


def context() -> BatchContext:
    desired = DesiredBatch(
        spec=SPEC, containers=CONTAINERS, app_files=(), tasks=(task("a"), task("b"))
    )
    clock = Clock()
    return BatchContext(
        desired=desired,
        workspace="ws",
        emit=lambda _e: None,
        clock=clock,
        started=clock.now(),
        deadline=clock.now() + 60,
        batch=BatchAccount(None),
        blobs=BlobStore(None, None),
    )


def change(address: str, action: Action, owned: bool = True) -> Change:
    return Change(address=address, action=action, owned=owned)


def shape(steps: list[Step]) -> list[tuple[str, str]]:
    return [(s.address, s.label) for s in steps]


def test_a_first_run_creates_uploads_and_runs_everything_in_order() -> None:
    inputs = CONTAINERS["input"]
    changes = [
        change(f"BatchJob/tw/container/{inputs}", Action.CREATE),
        change(f"BatchJob/tw/blob/{inputs}/a.txt", Action.CREATE),
        change(f"BatchJob/tw/blob/{inputs}/b.txt", Action.NOOP),
        change("BatchJob/tw/pool/tw-pool", Action.CREATE),
        change("BatchJob/tw/job/tw-job", Action.CREATE),
        change("BatchJob/tw/task/tw-job/t-a", Action.CREATE),
        change("BatchJob/tw/task/tw-job/t-b", Action.NOOP),
    ]
    steps = job_steps(context(), changes)
    assert shape(steps) == [
        (f"BatchJob/tw/container/{inputs}", "create"),
        ("BatchJob/tw/blob", "upload"),
        ("BatchJob/tw/pool/tw-pool", "create"),
        ("BatchJob/tw/job/tw-job", "create"),
        ("BatchJob/tw/job/tw-job", "add tasks"),
        ("BatchJob/tw/job/tw-job", "poll"),
        ("BatchJob/tw/collect/out/tw", "collect"),
        (f"BatchJob/tw/container/{CONTAINERS['output']}", "record"),
        ("BatchJob/tw/teardown", "teardown"),
    ]
    # Each step waits for the one before it; teardown for all, whatever they did. The
    # record is written once the poll's results are collected.
    for before, after in zip(steps, steps[1:-2], strict=False):
        assert after.depends_on == (before.key,)
    assert steps[-2].depends_on == (steps[-4].key, steps[-3].key)
    assert set(steps[-1].depends_on) == {s.key for s in steps[:-1]}
    assert steps[-1].always and not any(s.always for s in steps[:-1])
    assert found_done(changes) == {"skipped": 1, "tasks_present": 1}


def test_a_resumed_run_reruns_stale_tasks_and_reuses_pool_and_job() -> None:
    changes = [
        change("BatchJob/tw/pool/tw-pool", Action.NOOP),
        change("BatchJob/tw/job/tw-job", Action.NOOP),
        change("BatchJob/tw/task/tw-job/t-a", Action.REPLACE),
        change("BatchJob/tw/task/tw-job/t-b", Action.NOOP),
    ]
    assert shape(job_steps(context(), changes)) == [
        ("BatchJob/tw/job/tw-job", "remove stale tasks"),
        ("BatchJob/tw/job/tw-job", "add tasks"),
        ("BatchJob/tw/job/tw-job", "poll"),
        ("BatchJob/tw/collect/out/tw", "collect"),
        (f"BatchJob/tw/container/{CONTAINERS['output']}", "record"),
        ("BatchJob/tw/teardown", "teardown"),
    ]


def recorded(address: str) -> Change:
    return Change(address=address, action=Action.NOOP, before={"recorded": "2026-12-03"})


def test_tasks_done_in_an_earlier_run_are_collected_from_the_record_not_run() -> None:
    changes = [
        change("BatchJob/tw/pool/tw-pool", Action.CREATE),
        change("BatchJob/tw/job/tw-job", Action.CREATE),
        change("BatchJob/tw/task/tw-job/t-a", Action.CREATE),
        recorded("BatchJob/tw/task/tw-job/t-b"),
    ]
    labels = shape(job_steps(context(), changes))
    assert labels.index(("BatchJob/tw/collect/out/tw", "collect done")) == (
        labels.index(("BatchJob/tw/collect/out/tw", "collect")) + 1
    )


def test_the_run_makes_only_tasks_not_done_and_keeps_their_identities() -> None:
    merge = DesiredTask(
        id="total", command="true", input=None, outputs=(), depends_on=("t-a", "t-b")
    )
    desired = DesiredBatch(
        spec=SPEC, containers=CONTAINERS, app_files=(), tasks=(task("a"), task("b"), merge)
    )
    made = without_done(desired, {"t-a"})
    assert [t.id for t in made.tasks] == ["t-b", "total"]
    # What it was computed from is unchanged: the record and Batch see the same identity.
    assert made.tasks[1] == merge
    assert without_done(desired, set()) is desired


def test_when_every_task_is_done_the_run_only_collects() -> None:
    done = [recorded("BatchJob/tw/task/tw-job/t-a"), recorded("BatchJob/tw/task/tw-job/t-b")]
    absent = [
        change("BatchJob/tw/pool/tw-pool", Action.NOOP, owned=False),
        change("BatchJob/tw/job/tw-job", Action.NOOP, owned=False),
    ]
    assert shape(job_steps(context(), absent + done)) == [("BatchJob/tw/collect", "collect")]
    # A pool a run stopped in its teardown left behind goes as that teardown would.
    left = [change("BatchJob/tw/pool/tw-pool", Action.NOOP), absent[1]]
    steps = job_steps(context(), left + done)
    assert shape(steps) == [
        ("BatchJob/tw/collect", "collect"),
        ("BatchJob/tw/teardown", "teardown"),
    ]
    assert steps[1].always


def test_a_replaced_pool_and_job_are_steps_named_for_it() -> None:
    changes = [
        change("BatchJob/tw/pool/tw-pool", Action.REPLACE),
        change("BatchJob/tw/job/tw-job", Action.REPLACE),
    ]
    labels = shape(job_steps(context(), changes))[:2]
    assert labels == [
        ("BatchJob/tw/pool/tw-pool", "replace"),
        ("BatchJob/tw/job/tw-job", "replace"),
    ]
