"""The collect step over what tasks left in the local target's Blob storage: a succeeded
task whose outputs all have names is fetched by name, without a listing, and an output it
did not leave is reported missing (not a failed download); a failed task's stdout and
stderr and glob outputs are listed and fetched; a job without ``collect`` downloads nothing
and reports the same."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.backends.batch_account import BatchAccount
from runner.backends.blob_store import BlobStore, blob_store
from runner.engine.batch_collect import Collector, collect
from runner.engine.batch_context import BatchContext
from runner.engine.executor import StepOutcome
from runner.engine.retry import Clock
from runner.plan.batch_desired import DesiredBatch, DesiredTask
from runner.plan.batch_observed import ObservedTask
from runner.spec.models import BatchJob

pytestmark = pytest.mark.integration

LEFT = {
    "t-1/a.txt": b"A",  # t-1 declares a.txt and b.txt: b.txt is missing
    "t-2/stdout.txt": b"out",
    "t-2/stderr.txt": b"cannot count",
    "t-3/x.csv": b"1,2",
    "t-3/stdout.txt": b"",
}


def run_of(target: Any, name: str, collect_dir: Path | None) -> BatchContext:
    spec = BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": name,
            "pool": {"id": f"{name}-pool", "nodes": 1},
            "job": {"id": f"{name}-job"},
            "tasks": {"forEachFile": "*.txt", "id": "t-{{ file.stem }}", "command": "true"},
            **({"collect": {"dir": str(collect_dir)}} if collect_dir else {}),
        }
    )
    containers = {r: f"{name}-{r}" for r in ("application", "input", "output")}
    tasks = (
        DesiredTask(id="t-1", command="true", input=None, outputs=("a.txt", "b.txt")),
        DesiredTask(id="t-2", command="false", input=None, outputs=("a.txt",)),
        DesiredTask(id="t-3", command="true", input=None, outputs=("*.csv",)),
    )
    desired = DesiredBatch(spec=spec, containers=containers, app_files=(), tasks=tasks)
    clock = Clock()
    return BatchContext(
        desired=desired,
        workspace="ws",
        emit=lambda e: None,
        clock=clock,
        started=clock.now(),
        deadline=clock.now() + 300,
        batch=BatchAccount(target.batch_client("local")),
        blobs=blob_store(target, "local"),
    )


@pytest.fixture
def output_container(target: Any, blob_service: Any, unique_name: Any) -> Iterator[str]:
    name = unique_name("collect")
    container = blob_service.create_container(f"{name}-output")
    for blob, data in LEFT.items():
        container.upload_blob(blob, data)
    try:
        yield name
    finally:
        container.delete_container()


def results_of(ctx: BatchContext) -> dict[str, ObservedTask]:
    exits = {"t-1": 0, "t-2": 1, "t-3": 0}
    return {
        t.id: ObservedTask(t.id, "completed", exit_code=exits[t.id], identity=t.identity)
        for t in ctx.desired.tasks
    }


def collected(ctx: BatchContext) -> StepOutcome:
    return collect(ctx, results_of(ctx), Collector(ctx, workers=4))


def test_named_outputs_are_fetched_by_name_and_a_missing_one_is_reported(
    target: Any, output_container: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    ctx = run_of(target, output_container, out)
    listings: list[str] = []
    list_names = BlobStore.list_names

    def listing(store: BlobStore, container: str, prefix: str = "") -> list[str]:
        listings.append(prefix)
        return list_names(store, container, prefix)

    monkeypatch.setattr(BlobStore, "list_names", listing)
    results = results_of(ctx)
    collector = Collector(ctx, workers=4)

    collector.seen({"t-1": results["t-1"]})  # as the wait hands a completed task on
    outcome = collect(ctx, results, collector)

    # t-1 was fetched by name; one listing of the container served t-2 and t-3.
    assert listings == [""]

    container = f"{output_container}-output"
    assert outcome.counts["succeeded"] == 2
    assert outcome.counts["failed"] == 1
    assert outcome.counts["downloaded"] == 4
    assert (out / "a.txt").read_bytes() == b"A"
    assert (out / "x.csv").read_bytes() == b"1,2"
    assert (out / "t-2" / "stderr.txt").read_bytes() == b"cannot count"
    assert (out / "t-2" / "stdout.txt").read_bytes() == b"out"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a.txt",
        "t-2/stderr.txt",
        "t-2/stdout.txt",
        "x.csv",
    ]
    assert outcome.errors == [
        f"task t-1 succeeded but {container} holds no t-1/b.txt",
        f"task t-2 failed (exit code 1); see {out / 't-2'}/stderr.txt",
    ]


def test_without_collect_nothing_is_downloaded_and_the_tasks_are_reported_the_same(
    target: Any, output_container: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ctx = run_of(target, output_container, None)

    outcome = collected(ctx)

    container = f"{output_container}-output"
    assert (outcome.counts["succeeded"], outcome.counts["failed"]) == (2, 1)
    assert outcome.counts["downloaded"] == 0
    assert outcome.outputs == []
    assert list(tmp_path.iterdir()) == []
    assert outcome.errors == [
        f"task t-1 succeeded but {container} holds no t-1/b.txt",
        f"task t-2 failed (exit code 1); see the output container {container}/t-2/stderr.txt",
    ]
