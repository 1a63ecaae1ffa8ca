"""The pool look of the Batch monitor: never while tasks run or counts move, once after
``STALL_POLLS`` unchanged polls of waiting tasks, and then a clear failure when the pool
has nothing to run them on. Real SDK against the local Batch emulator."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from runner.backends import batch as bb
from runner.backends.batch_account import BatchAccount
from runner.backends.blob_store import BlobStore
from runner.backends.sas import sas_expiry, signer_for
from runner.engine.batch_context import BatchContext
from runner.engine.batch_health import STALL_POLLS, PoolCannotRunTasks, PoolWatch
from runner.engine.inputs import desired_from_files
from runner.engine.retry import Clock
from runner.spec.models import BatchJob

pytestmark = pytest.mark.integration

WAITING = {"active": 2, "running": 0, "completed": 0, "succeeded": 0, "failed": 0}
RUNNING = {"active": 1, "running": 1, "completed": 0, "succeeded": 0, "failed": 0}


def pool_requests(counters: dict[str, int]) -> int:
    return sum(n for key, n in counters.items() if key.startswith("GET /pools"))


def pool_run(target: Any, name: str, folder: Path, nodes: int) -> tuple[BatchContext, Any]:
    """A run whose pool has been created (and is still allocating when slowed down)."""
    spec = BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": name,
            "pool": {"id": f"{name}-pool", "nodes": nodes},
            "job": {"id": f"{name}-job"},
            "tasks": {"forEachFile": "*.txt", "id": "t-{{ file.stem }}", "command": "true"},
            "collect": {"dir": "out"},
        }
    )
    (folder / "a.txt").write_text("a\n")
    desired = desired_from_files(spec, folder)
    client = target.batch_client("local")
    service = target.blob_service("local")
    signer = signer_for(service, target.storage_account_key("local"), sas_expiry(spec.timeout))
    bb.create_pool(client, desired, signer, "ws")
    clock = Clock()
    ctx = BatchContext(
        desired=desired,
        workspace="ws",
        emit=lambda e: None,
        clock=clock,
        started=clock.now(),
        deadline=clock.now() + timedelta(minutes=5).total_seconds(),
        batch=BatchAccount(client),
        blobs=BlobStore(service, target.storage_account_key("local")),
    )
    return ctx, client


def wait_steady(client: Any, pool_id: str) -> None:
    deadline = time.monotonic() + 30
    while bb.enum_text(client.get_pool(pool_id).allocation_state) != "steady":
        assert time.monotonic() < deadline, "pool never steady"
        time.sleep(0.1)


@pytest.fixture
def empty_pool_run(target: Any, unique_name: Any, tmp_path: Path) -> Any:
    """A run whose pool exists with 0 nodes: a pool that can never run a task."""
    run, client = pool_run(target, unique_name("health"), tmp_path, nodes=0)
    pool_id = run.desired.spec.pool.id
    wait_steady(client, pool_id)
    yield run
    bb.delete_pool(client, pool_id)


def test_no_pool_request_while_tasks_run_or_counts_change(empty_pool_run, faults) -> None:
    watch = PoolWatch(empty_pool_run)
    faults.reset_counters()
    for _ in range(STALL_POLLS * 3):
        watch.after_poll(RUNNING)
    for done in range(STALL_POLLS * 3):  # tasks waiting, but the counts move every poll
        watch.after_poll({**WAITING, "completed": done, "succeeded": done})
    assert watch.looks == 0
    assert pool_requests(faults.counters()) == 0


def test_stalled_waiting_tasks_look_at_the_pool_once_and_fail(empty_pool_run, faults) -> None:
    watch = PoolWatch(empty_pool_run)
    faults.reset_counters()
    for _ in range(STALL_POLLS):  # the first poll sets the baseline; then unchanged polls
        watch.after_poll(WAITING)
    assert watch.looks == 0
    with pytest.raises(PoolCannotRunTasks) as caught:
        watch.after_poll(WAITING)
    assert watch.looks == 1
    pool_id = empty_pool_run.desired.spec.pool.id
    assert str(caught.value) == (
        f"pool {pool_id} has no nodes (target 0); the job's 2 waiting task(s) cannot run"
    )
    # one pool get, and no node list: a pool without nodes says enough by itself
    assert pool_requests(faults.counters()) == 1


def test_a_pool_whose_resize_stopped_short_fails_with_its_resize_errors(
    target: Any, unique_name: Any, tmp_path: Path, transitions: Any
) -> None:
    # Allocation held back long enough for the resize to be stopped before any node comes.
    transitions({"batch.pool.allocation": {"mode": "seconds", "value": 60}})
    run, client = pool_run(target, unique_name("resize"), tmp_path, nodes=1)
    pool_id = run.desired.spec.pool.id
    try:
        client.begin_stop_pool_resize(pool_id, polling_interval=1)
        wait_steady(client, pool_id)
        with pytest.raises(PoolCannotRunTasks) as caught:
            PoolWatch(run).look(waiting=1)
        assert str(caught.value) == (
            f"pool {pool_id} could not allocate nodes: ResizeStopped: Desired number of "
            "dedicated nodes could not be allocated due to a stop resize operation"
        )
    finally:
        bb.delete_pool(client, pool_id)
