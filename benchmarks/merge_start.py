"""Benchmark of how soon a merge task starts once its last dependency has completed, on
the local target.

Starts a local target of its own (state in a temporary folder), adds to a job made
with ``usesTaskDependencies`` some short mapped tasks and a merge task that depends on
all of them, as ``runner apply`` does for a BatchJob with ``merge:``, and reads from
the tasks' execution info the time between the last mapped task's end and the merge
task's start. Baseline: the shortest interval of the apply's task poll
(``runner.engine.batch_monitor.POLL.first``); goal: the merge starts within one poll
interval (ratio <= 1), so a run with a merge waits for it no longer than for any task.

    python benchmarks/merge_start.py [--tasks 100] [--runs 3]

With RUNNER_BENCH_QUICK=1 the defaults are 20 tasks and one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import print_ratio, result

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WAIT = 120.0  # seconds a run may take before the benchmark gives up


def one_run(client: Any, pool_id: str, job_id: str, count: int) -> float:
    """Seconds from the last mapped task's end to the merge task's start."""
    from azure.batch import models as bm

    client.create_job(
        bm.BatchJobCreateOptions(
            id=job_id, pool_info=bm.BatchPoolInfo(pool_id=pool_id), uses_task_dependencies=True
        )
    )
    mapped = [f"t-{i:04d}" for i in range(count)]
    tasks = [
        bm.BatchTaskCreateOptions(id=t, command_line="/bin/sh -c 'sleep 0.05'") for t in mapped
    ]
    tasks.append(
        bm.BatchTaskCreateOptions(
            id="merge",
            command_line="/bin/sh -c true",
            depends_on=bm.BatchTaskDependencies(task_ids=mapped),
        )
    )
    client.create_tasks(job_id, tasks)
    deadline = time.monotonic() + WAIT
    while client.get_task(job_id, "merge").state != bm.BatchTaskState.COMPLETED:
        if time.monotonic() > deadline:
            raise SystemExit(f"the merge task of {job_id} did not complete in {WAIT:.0f} s")
        time.sleep(0.2)
    listed = {t.id: t for t in client.list_tasks(job_id)}
    last_end = max(listed[t].execution_info.end_time for t in mapped)
    start = listed["merge"].execution_info.start_time
    client.begin_delete_job(job_id, polling_interval=1).result()
    return (start - last_end).total_seconds()


def main() -> int:
    quick = os.environ.get("RUNNER_BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=20 if quick else 100)
    parser.add_argument("--runs", type=int, default=1 if quick else 3)
    args = parser.parse_args()

    from azure.batch import models as bm

    from runner.engine.batch_monitor import POLL

    with tempfile.TemporaryDirectory(prefix="runner-bench-merge-") as tmp:
        state = Path(tmp) / "local"
        os.environ["RUNNER_LOCAL_DIR"] = str(state)
        from runner.backends import local_target
        from runner.backends.target import local_target as target_of

        status = local_target.up(state)
        try:
            client = target_of(status).batch_client("local")
            pool_id = "bench-merge-pool"
            client.create_pool(
                bm.BatchPoolCreateOptions(
                    id=pool_id,
                    vm_size="STANDARD_D2S_V3",
                    target_dedicated_nodes=2,
                    virtual_machine_configuration=bm.VirtualMachineConfiguration(
                        image_reference=bm.BatchVmImageReference(
                            publisher="canonical",
                            offer="0001-com-ubuntu-server-jammy",
                            sku="22_04-lts",
                        ),
                        node_agent_sku_id="batch.node.ubuntu 22.04",
                    ),
                )
            )
            gaps = [
                one_run(client, pool_id, f"bench-merge-job-{i}", args.tasks)
                for i in range(args.runs)
            ]
        finally:
            local_target.down(state, purge=True)
    gap = statistics.median(gaps)
    print(f"merge start after its last dependency: {', '.join(f'{g:.3f}' for g in gaps)} s")
    print_ratio("merge start delay vs the apply's shortest poll interval", gap, POLL.first)
    result(
        f"merge task start after the last of {args.tasks} dependencies",
        figure=gap,
        baseline=POLL.first,
        unit="s",
        goal="ratio <= 1 (within one poll interval)",
        met=gap <= POLL.first,
        runs=args.runs,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
