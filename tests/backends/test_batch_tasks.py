"""The Batch backend through the real azure-batch SDK against the local target: what a
task looks like on the wire, chunks split on RequestBodyTooLarge, TaskExists read as
present, and live state read back so that a pool just made plans as a no-op."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from runner.backends import batch as bb
from runner.backends import batch_tasks as bt
from runner.backends.sas import sas_expiry, signer_for
from runner.engine.inputs import desired_from_files
from runner.plan.action import Action
from runner.plan.batch import diff_desired
from runner.plan.batch_desired import DesiredBatch, DesiredTask, LocalFile
from runner.spec.models import BatchJob, TaskFactory

pytestmark = pytest.mark.integration


@pytest.fixture
def target(emulator: dict[str, Any]) -> Any:
    from runner.backends.target import local_target

    return local_target(emulator)


def spec_for(name: str, command: str = "true") -> BatchJob:
    return BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": name,
            "pool": {"id": f"{name}-pool", "nodes": 0, "startTask": {"command": "true"}},
            "job": {"id": f"{name}-job"},
            "tasks": {"forEachFile": "*.txt", "id": "t-{{ file.stem }}", "command": command},
            "collect": {"dir": "out"},
        }
    )


def desired(spec: BatchJob, folder: Path) -> DesiredBatch:
    (folder / "one.txt").write_text("one\n")
    return desired_from_files(spec, folder)


def a_task(i: int, padding: str = "") -> DesiredTask:
    name = f"in-{i:04d}.txt"
    return DesiredTask(
        id=f"t-{i:04d}",
        command=f"python3 $AZ_BATCH_NODE_SHARED_DIR/topwords.py --filepath {name}{padding}",
        input=LocalFile(Path(name), "bt-input", name, md5="", size=0),
        outputs=(f"in-{i:04d}_OUTPUT.txt",),
    )


def signer(target: Any) -> Any:
    service = target.blob_service("local")
    key = target.storage_account_key("local")
    return signer_for(service, key, sas_expiry(timedelta(minutes=5)))


def test_task_wire_form_keeps_sas_out_of_the_command_line(target) -> None:
    sign = signer(target)
    out_url = sign.write_container("bt-output")
    factory = TaskFactory(for_each_file="*.txt", id="x", command="x", max_retries=2)
    options = bt.task_options(a_task(1), factory, sign, out_url).as_dict()

    assert options["commandLine"].startswith("/bin/sh -c ")
    assert "sig=" not in options["commandLine"]
    (resource,) = options["resourceFiles"]
    assert resource["filePath"] == "in-0001.txt"
    assert "/bt-input/in-0001.txt?" in resource["httpUrl"] and "sp=r&" in resource["httpUrl"]
    outputs = {o["filePattern"]: o for o in options["outputFiles"]}
    assert set(outputs) == {"in-0001_OUTPUT.txt", "../std*.txt"}
    for o in outputs.values():
        assert o["destination"]["container"]["containerUrl"] == out_url
        assert o["uploadOptions"]["uploadCondition"] == "taskCompletion"
    assert outputs["in-0001_OUTPUT.txt"]["destination"]["container"]["path"] == (
        "t-0001/in-0001_OUTPUT.txt"
    )
    assert outputs["../std*.txt"]["destination"]["container"]["path"] == "t-0001"
    assert options["constraints"]["maxTaskRetryCount"] == 2


def test_a_chunk_too_large_is_split_and_existing_tasks_count_as_present(
    target, unique_name, tmp_path
) -> None:
    spec = spec_for(unique_name("bt-split"))
    d = desired(spec, tmp_path)
    client = target.batch_client("local")
    sign = signer(target)
    bb.create_pool(client, d, sign, "ws")
    bb.create_job(client, d, "ws")
    out_url = sign.write_container("bt-output")
    factory = spec.tasks
    # 150 tasks in one request: above Batch's limit of 100, so the service refuses the body.
    options = [bt.task_options(a_task(i), factory, sign, out_url) for i in range(150)]

    first = bt.add_chunk(client, spec.job.id, options)
    assert sorted(first.added) == sorted(o.id for o in options)
    assert not first.failed and not first.existing and not first.retry

    again = bt.add_chunk(client, spec.job.id, options[:10])
    assert sorted(again.existing) == sorted(o.id for o in options[:10])
    assert not again.added and not again.failed
    assert len(bb.read_tasks(client, spec.job.id)) == 150
    bb.delete_job(client, spec.job.id)
    bb.delete_pool(client, spec.pool.id)


def test_pool_and_job_just_made_read_back_as_no_ops(target, unique_name, tmp_path) -> None:
    spec = spec_for(unique_name("bt-read"))
    d = desired(spec, tmp_path)
    client = target.batch_client("local")
    bb.create_pool(client, d, signer(target), "ws")
    bb.create_job(client, d, "ws")

    observed = bb.read_batch_state(spec, target, "ws")
    assert observed.pool is not None and observed.pool.owner.owned_by("ws", spec.name)
    assert observed.pool.owner.hash == d.pool_hash
    assert observed.job is not None and observed.job.pool_id == spec.pool.id
    changes = {c.address.part.kind: c for c in diff_desired(d, observed, workspace="ws")}
    assert changes["pool"].action is Action.NOOP, changes["pool"]
    assert changes["job"].action is Action.NOOP, changes["job"]
    assert bb.task_counts(client, spec.job.id) == {
        "active": 0,
        "running": 0,
        "completed": 0,
        "succeeded": 0,
        "failed": 0,
    }
    assert bb.delete_job(client, spec.job.id) is True
    assert bb.delete_pool(client, spec.pool.id) is True
    assert bb.read_batch_state(spec, target, "ws").pool is None or (
        bb.read_batch_state(spec, target, "ws").pool.state == "deleting"  # type: ignore[union-attr]
    )
    assert bb.delete_pool(client, "never-made-pool") is False


def test_creating_a_job_still_being_deleted_is_a_temporary_error(
    target, unique_name, tmp_path
) -> None:
    from runner.errors import TemporaryError

    spec = spec_for(unique_name("bt-again"))
    d = desired(spec, tmp_path)
    client = target.batch_client("local")
    bb.create_pool(client, d, signer(target), "ws")
    bb.create_job(client, d, "ws")
    bb.delete_job(client, spec.job.id)
    observed = bb.read_batch_state(spec, target, "ws").job
    if observed is None:
        pytest.fail("the job vanished at once: Batch deletes jobs asynchronously")
    assert observed.state == "deleting"
    with pytest.raises(TemporaryError) as info:
        bb.create_job(client, d, "ws")
    assert "JobBeingDeleted" in str(info.value)
    deadline = time.monotonic() + 60
    while bb.job_exists(client, spec.job.id):
        assert time.monotonic() < deadline, "the job was never deleted"
        time.sleep(0.2)
    bb.create_job(client, d, "ws")
    bb.delete_job(client, spec.job.id)
    bb.delete_pool(client, spec.pool.id)


def test_pool_updated_in_place_reads_back_as_the_new_definition(
    target, unique_name, tmp_path
) -> None:
    name = unique_name("bt-upd")
    before = spec_for(name)
    d1 = desired(before, tmp_path)
    client = target.batch_client("local")
    bb.create_pool(client, d1, signer(target), "ws")
    bb.create_job(client, d1, "ws")
    after = before.model_copy(
        update={
            "pool": before.pool.model_copy(
                update={
                    "nodes": 1,
                    "start_task": before.pool.start_task.model_copy(  # type: ignore[union-attr]
                        update={"command": "echo ready"}
                    ),
                }
            )
        }
    )
    d2 = desired(after, tmp_path)
    pool = {c.address.part.kind: c for c in diff_desired(d2, _read(target, after), workspace="ws")}
    assert pool["pool"].action is Action.UPDATE
    assert "pool.nodes" in pool["pool"].reason and "pool.startTask" in pool["pool"].reason

    bb.update_pool(client, d2, signer(target), "ws", nodes=0)
    deadline = time.monotonic() + 30
    while True:
        changes = {
            c.address.part.kind: c for c in diff_desired(d2, _read(target, after), workspace="ws")
        }
        if changes["pool"].action is Action.NOOP or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert changes["pool"].action is Action.NOOP, changes["pool"]
    bb.delete_job(client, after.job.id)
    bb.delete_pool(client, after.pool.id)


def _read(target: Any, spec: BatchJob) -> Any:
    return bb.read_batch_state(spec, target, "ws")


def test_a_task_waits_for_no_task_an_earlier_run_did() -> None:
    from runner.backends.batch_tasks import _dependencies

    merge = DesiredTask(
        id="total",
        command="true",
        input=None,
        outputs=(),
        depends_on=("1", "2", "3"),
        depends_on_ranges=((1, 3),),
    )
    assert _dependencies(merge, frozenset()).task_id_ranges[0].end == 3
    sent = _dependencies(merge, frozenset({"2"}))
    assert sent.task_ids == ["1", "3"] and sent.task_id_ranges is None
    assert _dependencies(merge, frozenset({"1", "2", "3"})) is None
