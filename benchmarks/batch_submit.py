"""Benchmark of adding Batch tasks and of monitoring them, against the local target.

Starts a local target of its own (state in a temporary folder) and, in one run:

- adds 10,000 tasks to a job the way ``runner apply`` does (chunks of 100, several
  requests in flight; ``runner.engine.batch_steps.add_in_chunks``), each task with its
  input as a resource file and its outputs as output files, all through SAS URLs;
- as the baseline, adds a sample of 500 tasks to a job of their own with one request per
  task (``create_task``), and extrapolates that time to 10,000 tasks (stated on the result:
  ``baseline_measured_tasks``); goal: chunks at least 20x faster (ratio <= 0.05);
- runs a small job to completion with the apply's monitor and counts, from the
  emulator's request counters, the requests it sent per poll; goal: 1
  (``get_job_task_counts``, never a list of every task).

The pool of the add measurements has no nodes, so tasks stay queued and only adding
is measured.

    python benchmarks/batch_submit.py [--tasks 10000] [--sample 500]

With RUNNER_BENCH_QUICK=1 the defaults are 2,000 tasks and a sample of 200.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from common import batch_context, print_ratio, result

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPEED_GOAL = 0.05  # chunked time / per-task time: at least 20x faster
MONITOR_TASKS = 20


def make_run(target: Any, pool_id: str, job_id: str, nodes: int, tasks: tuple = ()) -> Any:
    """The context the apply's Batch steps run in, against the local accounts."""
    from runner.backends.batch_account import BatchAccount
    from runner.backends.blob_store import BlobStore
    from runner.plan.batch_desired import DesiredBatch
    from runner.spec.models import BatchJob

    spec = BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": "bench",
            "pool": {"id": pool_id, "nodes": nodes},
            "job": {"id": job_id},
            "tasks": {"forEachFile": "*.txt", "id": "t-{{ file.stem }}", "command": "true"},
            "collect": {"dir": "out/bench"},
            "timeout": "1h",
        }
    )
    containers = {r: spec.container_name(r) for r in ("application", "input", "output")}
    desired = DesiredBatch(spec=spec, containers=containers, app_files=(), tasks=tasks)
    return batch_context(
        desired,
        BatchAccount(target.batch_client("local")),
        BlobStore(target.blob_service("local"), target.storage_account_key("local")),
    )


def pool_and_job(run: Any) -> None:
    run.batch.create_pool(run.desired, run.signer(), run.workspace)
    run.batch.create_job(run.desired, run.workspace)


def task_list(target: Any, prefix: str, count: int, command: str = "true") -> list[Any]:
    """Tasks shaped as apply makes them: input resource file, outputs, SAS URLs."""
    from runner.backends import batch_tasks as bt
    from runner.backends.sas import sas_expiry, signer_for
    from runner.plan.batch_desired import DesiredTask, LocalFile
    from runner.spec.models import TaskFactory

    signer = signer_for(
        target.blob_service("local"),
        target.storage_account_key("local"),
        sas_expiry(timedelta(hours=1)),
    )
    factory = TaskFactory(for_each_file="*.txt", id="x", command=command)
    out_url = signer.write_container("bench-output")
    tasks = []
    for i in range(count):
        name = f"{prefix}{i:05d}.txt"
        task = DesiredTask(
            id=f"{prefix}{i:05d}",
            command=command,
            input=LocalFile(Path(name), "bench-input", name, md5="", size=0),
            outputs=(f"{prefix}{i:05d}_OUTPUT.txt",),
        )
        tasks.append((task, bt.task_options(task, factory, signer, out_url)))
    return tasks


def bench_add(target: Any, count: int, sample: int) -> None:
    from runner.engine.batch_steps import CHUNK_WORKERS, add_in_chunks

    run = make_run(target, "bench-add-pool", "bench-add-job", nodes=0)
    pool_and_job(run)
    client = target.batch_client("local")  # the baseline's requests, one per task
    job_id = run.desired.spec.job.id

    # Warm up connections and the service's first requests.
    for _, options in task_list(target, "warm", 3):
        client.create_task(job_id, options)

    chunked = [o for _, o in task_list(target, "c", count)]
    start = time.perf_counter()
    added = add_in_chunks(run, "bench", chunked)
    chunked_s = time.perf_counter() - start
    if added.failed or len(added.added) != count:
        raise SystemExit(f"chunked add failed: {len(added.added)} added, {added.failed}")

    # The baseline gets a job of its own, so its requests do not pay for the 10,000
    # tasks already in the first one.
    single_run = make_run(target, "bench-add-pool", "bench-single-job", nodes=0)
    single_run.batch.create_job(single_run.desired, single_run.workspace)
    single = [o for _, o in task_list(target, "s", sample)]
    start = time.perf_counter()
    for options in single:
        client.create_task("bench-single-job", options)
    sample_s = time.perf_counter() - start
    per_task_s = sample_s / sample * count

    print(
        f"one request per task: {sample} tasks in {sample_s:.2f} s, "
        f"extrapolated to {count}: {per_task_s:.1f} s",
        flush=True,
    )
    print_ratio(
        f"{count} tasks in chunks of 100 ({CHUNK_WORKERS} in flight) vs one request per task",
        chunked_s,
        per_task_s,
    )
    result(
        f"add {count} tasks: chunks of 100 in parallel vs one request per task",
        figure=chunked_s,
        baseline=per_task_s,
        unit="s",
        goal=f"ratio <= {SPEED_GOAL} (at least 20x faster)",
        met=chunked_s / per_task_s <= SPEED_GOAL,
        baseline_measured_tasks=sample,
        baseline_note=f"one-request-per-task time measured on {sample} tasks, scaled to {count}",
        speedup=round(per_task_s / chunked_s, 1),
    )
    # Wait for the deletes: their pollers must not add requests to the monitor's count.
    for poller in (
        client.begin_delete_job(job_id, polling_interval=1),
        client.begin_delete_job("bench-single-job", polling_interval=1),
        client.begin_delete_pool(run.desired.spec.pool.id, polling_interval=1),
    ):
        poller.result()


def bench_monitor(target: Any, status: dict[str, Any]) -> None:
    from runner.backends import local_target
    from runner.engine import batch_monitor
    from runner.engine.batch_steps import add_in_chunks

    pairs = task_list(target, "m", MONITOR_TASKS, command="sleep 0.2")
    run = make_run(
        target, "bench-mon-pool", "bench-mon-job", nodes=1, tasks=tuple(t for t, _ in pairs)
    )
    pool_and_job(run)
    service = target.blob_service("local")
    service.create_container("bench-output")
    inputs = service.create_container("bench-input")
    for task, _ in pairs:
        inputs.upload_blob(task.input.blob, b"one two two\n")
    add_in_chunks(run, "bench", [o for _, o in pairs])

    local_target.reset_counters(status)
    counts = batch_monitor.wait_for_tasks(run)
    seen = local_target.counters(status)
    polls = sum(n for key, n in seen.items() if "taskcounts" in key.lower())
    total = sum(seen.values())
    per_poll = total / polls if polls else float("inf")
    print(
        f"monitor: {polls} polls, {total} requests in all until {counts.get('completed')} "
        f"tasks completed ({per_poll:.2f} per poll); requests: {dict(seen)}",
        flush=True,
    )
    result(
        "requests per poll while monitoring a job",
        figure=per_poll,
        unit="requests",
        goal="figure == 1 (get_job_task_counts only)",
        met=polls > 0 and total == polls,
        polls=polls,
    )
    run.batch.delete_job(run.desired.spec.job.id)
    run.batch.delete_pool(run.desired.spec.pool.id)


def main() -> int:
    quick = os.environ.get("RUNNER_BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=2000 if quick else 10_000)
    parser.add_argument("--sample", type=int, default=200 if quick else 500)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="runner-bench-batch-") as tmp:
        state = Path(tmp) / "local"
        os.environ["RUNNER_LOCAL_DIR"] = str(state)
        from runner.backends import local_target
        from runner.backends.target import local_target as target_of

        status = local_target.up(state)
        try:
            target = target_of(status)
            bench_add(target, args.tasks, args.sample)
            bench_monitor(target, status)
        finally:
            local_target.down(state, purge=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
