"""Benchmark of how soon ``runner apply`` of a BatchJob ends after its last task does.

Starts a local target of its own (state in a temporary folder) and runs ``runner apply
--yes`` (the CLI, in a process of its own, as a user runs it) of a job of ``--tasks 1000``
small tasks (the README's ``topwords.py`` over the README's inputs in turn) on a pool of
2 nodes; the job is kept (``teardown.job: never``) so that its tasks can be read after.

Figure: the time from the last task's end (its ``executionInfo.endTime``, read through
the SDK after apply; the emulator shares this machine's clock) to apply's exit, which
covers the outputs that were left to download and the teardown. Baseline: the whole
apply. Goal: apply ends within 2 s of the last task's completion (figure <= 2 s).

    python benchmarks/apply_tail.py [--tasks 1000]

With RUNNER_BENCH_QUICK=1 the default is 200 tasks.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from common import print_ratio, result

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL = 2.0  # seconds from the last task's end to apply's exit
SAMPLES = sorted((ROOT / "specs" / "topwords").glob("*.txt"))  # the README's inputs
SPEC = """\
kind: BatchJob
name: bench-tail
pool:
  id: bench-tail-pool
  vmSize: STANDARD_D2S_V3
  nodes: 2
  image:
    publisher: canonical
    offer: 0001-com-ubuntu-server-jammy
    sku: 22_04-lts
  nodeAgentSku: batch.node.ubuntu 22.04
  startTask:
    copy: ["package:runner/jobs/topwords.py"]
    waitForSuccess: true
job:
  id: bench-tail-job
tasks:
  forEachFile: "inputs/*.txt"
  id: "t-{{ file.stem }}"
  command: >-
    python3 $AZ_BATCH_NODE_SHARED_DIR/topwords.py --filepath {{ file.name }}
    --numwords 3 --output {{ file.stem }}_OUTPUT.txt
  outputs: ["{{ file.stem }}_OUTPUT.txt"]
timeout: 1h
collect:
  dir: out
teardown:
  job: never
  pool: always
  containers: never
"""


def main() -> int:
    quick = os.environ.get("RUNNER_BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200 if quick else 1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="runner-bench-tail-") as tmp:
        work = Path(tmp)
        state = work / "local"
        os.environ["RUNNER_LOCAL_DIR"] = str(state)
        (work / "inputs").mkdir()
        for i in range(args.tasks):
            shutil.copyfile(SAMPLES[i % len(SAMPLES)], work / "inputs" / f"{i:05d}.txt")
        (work / "tail.yaml").write_text(SPEC)
        from runner.backends import local_target
        from runner.backends.target import local_target as target_of

        status = local_target.up(state)
        try:
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "runner", "apply", "tail.yaml", "--yes"],
                cwd=work,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
            )
            ended = datetime.now(UTC)
            duration = time.perf_counter() - start
            if done.returncode != 0:
                raise SystemExit(f"runner apply failed ({done.returncode}):\n{done.stderr[-2000:]}")
            collected = len(list((work / "out").glob("*_OUTPUT.txt")))
            if collected != args.tasks:
                raise SystemExit(f"apply collected {collected} outputs of {args.tasks}")
            client = target_of(status).batch_client("local")
            last = max(t.execution_info.end_time for t in client.list_tasks("bench-tail-job"))
        finally:
            local_target.down(state, purge=True)

    tail = (ended - last).total_seconds()
    print_ratio(f"apply of {args.tasks} tasks: exit after the last task vs all", tail, duration)
    result(
        f"runner apply of {args.tasks} tasks: exit after the last task's end (vs whole apply)",
        figure=tail,
        baseline=duration,
        unit="s",
        goal=f"figure <= {GOAL:g} s",
        met=tail <= GOAL,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
