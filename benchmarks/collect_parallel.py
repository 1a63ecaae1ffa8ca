"""Benchmark of collecting a Batch job's outputs in parallel, under Blob latency.

Starts a local target of its own (state in a temporary folder), puts in its Blob
storage what the tasks of a finished job leave in the output container (for each task
``<task id>/<task id>_OUTPUT.txt``, ``stdout.txt`` and ``stderr.txt``), and times the
apply's collect step (``runner.engine.batch_collect.collect``) over them, every task
completed and succeeded:

- figure: the collector as apply runs it (``COLLECT_WORKERS`` downloads at once);
- baseline: the same collector with one worker, one download at a time.

The runner's own Blob storage (``blob_store``, as apply makes it: the SDK client, and the
read-SAS URLs collect downloads by, which name the same endpoint) reaches Azurite
through a proxy that delays what it sends by 20 ms (``_latency_proxy.py``): each request,
and each flight of a new connection's TLS handshake, pays the round trip of a storage
account in another region. Azurite on the same machine answers in a few milliseconds,
which would hide what parallel downloads are for. Goal: parallel at least 8x faster
(ratio <= 0.125). Median of the runs.

    python benchmarks/collect_parallel.py [--tasks 200] [--runs 3] [--latency-ms 20]

With RUNNER_BENCH_QUICK=1 the defaults are 100 tasks and one run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from common import batch_context, latency_proxy, print_ratio, result

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPEED_GOAL = 0.125  # parallel time / one-at-a-time time: at least 8x faster
OUTPUT_BYTES = 2048  # a top-words report is a few lines; the request, not the bytes, costs


def blob_endpoint(status: dict[str, Any]) -> str:
    conn = status["storage"]["connection_string"]
    return next(p.split("=", 1)[1] for p in conn.split(";") if p.startswith("BlobEndpoint="))


def behind(status: dict[str, Any], port: int) -> dict[str, Any]:
    """The local target's status with its Blob endpoint at ``port`` on 127.0.0.1."""
    endpoint = blob_endpoint(status)
    moved = urlunsplit(urlsplit(endpoint)._replace(netloc=f"127.0.0.1:{port}"))
    conn = status["storage"]["connection_string"].replace(endpoint, moved)
    return {**status, "storage": {**status["storage"], "connection_string": conn}}


def desired_batch(count: int, out_dir: Path) -> Any:
    from runner.plan.batch_desired import DesiredBatch, DesiredTask, LocalFile
    from runner.spec.models import BatchJob

    spec = BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": "bench-collect",
            "pool": {"id": "bench-collect-pool", "nodes": 2},
            "job": {"id": "bench-collect-job"},
            "tasks": {
                "forEachFile": "*.txt",
                "id": "t-{{ file.stem }}",
                "command": "wc -w {{ file.name }} > {{ file.stem }}_OUTPUT.txt",
                "outputs": ["{{ file.stem }}_OUTPUT.txt"],
            },
            "collect": {"dir": str(out_dir)},
            "timeout": "1h",
        }
    )
    containers = {r: spec.container_name(r) for r in ("application", "input", "output")}
    tasks = tuple(
        DesiredTask(
            id=f"t-{i:05d}",
            command=f"wc -w {i:05d}.txt > {i:05d}_OUTPUT.txt",
            input=LocalFile(
                Path(f"{i:05d}.txt"), containers["input"], f"{i:05d}.txt", md5="", size=0
            ),
            outputs=(f"{i:05d}_OUTPUT.txt",),
        )
        for i in range(count)
    )
    return DesiredBatch(spec=spec, containers=containers, app_files=(), tasks=tasks)


def upload_outputs(service: Any, desired: Any) -> None:
    """What Batch's output files leave for each task, uploaded without added latency."""
    container = service.create_container(desired.containers["output"])
    body = b"x" * OUTPUT_BYTES

    def put(task: Any) -> None:
        for name in (*task.outputs, "stdout.txt", "stderr.txt"):
            container.upload_blob(f"{task.id}/{name}", body if name in task.outputs else b"")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, desired.tasks))


def time_collect(ctx: Any, results: dict[str, Any], workers: int | None) -> float:
    from runner.engine.batch_collect import Collector, collect

    out_dir = Path(ctx.spec.collect.dir)
    shutil.rmtree(out_dir, ignore_errors=True)
    collector = Collector(ctx) if workers is None else Collector(ctx, workers=workers)
    start = time.perf_counter()
    outcome = collect(ctx, results, collector)
    seconds = time.perf_counter() - start
    expected = len(ctx.desired.tasks)
    if outcome.errors or outcome.counts["downloaded"] != expected:
        raise SystemExit(
            f"collect failed: {outcome.counts['downloaded']} of {expected} downloaded, "
            f"errors {outcome.errors[:3]}"
        )
    return seconds


def main() -> int:
    quick = os.environ.get("RUNNER_BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100 if quick else 200)
    parser.add_argument("--runs", type=int, default=1 if quick else 3)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()

    from runner.backends.blob_store import blob_store
    from runner.engine.batch_collect import COLLECT_WORKERS
    from runner.plan.batch import ObservedTask

    with tempfile.TemporaryDirectory(prefix="runner-bench-collect-") as tmp:
        state = Path(tmp) / "local"
        os.environ["RUNNER_LOCAL_DIR"] = str(state)
        from runner.backends import local_target
        from runner.backends.target import local_target as target_of

        status = local_target.up(state)
        stack = ExitStack()
        try:
            target = target_of(status)
            desired = desired_batch(args.tasks, Path(tmp) / "out")
            upload_outputs(target.blob_service("local"), desired)
            upstream = urlsplit(blob_endpoint(status)).netloc
            proxy = latency_proxy(upstream, args.latency_ms / 1000)
            far = target_of(behind(status, stack.enter_context(proxy)))
            # Collect reads only Blob storage: no Batch account.
            blobs = blob_store(far, "local")
            ctx = batch_context(desired, None, blobs)
            results = {
                t.id: ObservedTask(t.id, "completed", exit_code=0, identity=t.identity)
                for t in desired.tasks
            }
            time_collect(ctx, results, None)  # warm up connections and Azurite
            serial, parallel = [], []
            for _ in range(args.runs):
                serial.append(time_collect(ctx, results, 1))
                parallel.append(time_collect(ctx, results, None))
        finally:
            stack.close()
            local_target.down(state, purge=True)

    one, many = statistics.median(serial), statistics.median(parallel)
    print(f"one download at a time: {', '.join(f'{s:.2f}' for s in serial)} s")
    print(f"{COLLECT_WORKERS} at once: {', '.join(f'{s:.2f}' for s in parallel)} s")
    print_ratio(
        f"collect {args.tasks} tasks' outputs, {COLLECT_WORKERS} downloads at once vs one",
        many,
        one,
    )
    result(
        f"collect {args.tasks} tasks under {args.latency_ms:g} ms Blob latency: "
        f"{COLLECT_WORKERS} downloads at once vs one at a time",
        figure=many,
        baseline=one,
        unit="s",
        goal=f"ratio <= {SPEED_GOAL} (at least 8x faster)",
        met=many / one <= SPEED_GOAL,
        runs=args.runs,
        speedup=round(one / many, 1),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
