"""Benchmark of how fast the local Batch runs many small tasks, against running the same
commands on this machine two at a time.

Starts a local target of its own (state in a temporary folder) and runs two jobs, each on
a pool of 2 nodes of one task slot, made as ``runner apply`` makes them
(``runner.engine.inputs.desired_from_files`` from a spec; the engine's upload, pool, job
and chunked add), every task with its input file as a resource file and its output
uploaded to the output container:

- ``--tasks 1000`` tasks of the README's job (``runner/jobs/topwords.py``, copied to the
  nodes by the start task: the top 3 words of a small text). Baseline: the same command
  lines, each in a folder holding its input file, run by ``xargs -P 2``.
- ``--container-tasks 200`` tasks of ``specs/topwords-container.yaml``'s job (shell tools
  counting the words of a small text) in containers of ``RUNNER_TEST_IMAGE`` (default
  ``runner-test/busybox:1``), which the Docker engine must have; the pool prefetches it.
  Baseline: the same command lines under ``docker run --rm`` of the same image, the task
  folder mounted at its own path as the working directory, by ``xargs -P 2``.

Figure: from just before the first task is added until the last task's end (its
``executionInfo.endTime``; the emulator shares this machine's clock). The pools' nodes
are idle before the clock starts, so node start-up is not counted. Goal: within 1.3x of
the baseline (ratio <= 1.3).

    python benchmarks/batch_throughput.py [--tasks 1000] [--container-tasks 200]
        [--only plain|container]

With RUNNER_BENCH_QUICK=1 the defaults are 200 tasks and 50 container tasks.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import batch_context, print_ratio, result

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL = 1.3  # local Batch time / xargs -P 2 time
SLOTS = 2  # 2 nodes of one task slot; xargs runs as many at once
WAIT = 1800.0  # seconds a job may take before the benchmark gives up
IMAGE = os.environ.get("RUNNER_TEST_IMAGE", "runner-test/busybox:1")
SAMPLES = sorted((ROOT / "specs" / "topwords").glob("*.txt"))  # the README's inputs

# The README's job (specs/topwords.yaml) and its container variant
# (specs/topwords-container.yaml), on inputs of this benchmark's own.
PLAIN_TASKS = {
    "forEachFile": "inputs/*.txt",
    "id": "t-{{ file.stem }}",
    "command": (
        "python3 $AZ_BATCH_NODE_SHARED_DIR/topwords.py --filepath {{ file.name }} "
        "--numwords 3 --output {{ file.stem }}_OUTPUT.txt"
    ),
    "outputs": ["{{ file.stem }}_OUTPUT.txt"],
}
CONTAINER_TASKS = {
    "forEachFile": "inputs/*.txt",
    "id": "t-{{ file.stem }}",
    "command": (
        "tr -cs 'A-Za-z' '\\n' < {{ file.name }} | tr 'A-Z' 'a-z' | grep -v '^$' | sort | "
        "uniq -c | sort -k1,1nr -k2,2 | head -n 3 > {{ file.stem }}_OUTPUT.txt"
    ),
    "outputs": ["{{ file.stem }}_OUTPUT.txt"],
    "container": {"image": IMAGE},
}


def direct_python(tmp: Path) -> None:
    """Put the interpreter ``python3`` runs first on PATH (for the tasks of both sides):
    a version manager's shim, a shell script, costs some 100 ms per start, which would
    hide the cost this benchmark is about."""
    found = subprocess.run(
        ["python3", "-c", "import sys; print(sys.executable)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(found)
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def write_inputs(folder: Path, count: int) -> None:
    """``count`` small texts: the README job's inputs (a few KB each) in turn."""
    folder.mkdir(parents=True)
    for i in range(count):
        shutil.copyfile(SAMPLES[i % len(SAMPLES)], folder / f"{i:05d}.txt")


def spec_of(name: str, tasks: dict[str, Any], containers: bool) -> Any:
    from runner.spec.models import BatchJob

    pool: dict[str, Any] = {"id": f"{name}-pool", "vmSize": "STANDARD_D2S_V3", "nodes": SLOTS}
    if containers:
        pool["containers"] = {"images": [IMAGE]}
    else:
        pool.update(
            image={
                "publisher": "canonical",
                "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts",
            },
            nodeAgentSku="batch.node.ubuntu 22.04",
            startTask={"copy": ["package:runner/jobs/topwords.py"], "waitForSuccess": True},
        )
    return BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": name,
            "pool": pool,
            "job": {"id": f"{name}-job"},
            "tasks": tasks,
            "collect": {"dir": "out"},
            "timeout": "1h",
        }
    )


def wait_idle(client: Any, pool_id: str) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        states = [str(n.state) for n in client.list_nodes(pool_id)]
        if len(states) == SLOTS and all(s.lower().endswith("idle") for s in states):
            return
        if any(s.lower().endswith(("unusable", "starttaskfailed")) for s in states):
            raise SystemExit(f"pool {pool_id} cannot run tasks: nodes {states}")
        if time.monotonic() > deadline:
            raise SystemExit(f"pool {pool_id} has no idle nodes after {WAIT:.0f} s: {states}")
        time.sleep(0.2)


def run_on_batch(target: Any, base: Path, spec: Any) -> float:
    """Seconds from the first task added to the last task's end, on the local Batch."""
    from runner.engine import batch_steps
    from runner.engine.inputs import desired_from_files

    desired = desired_from_files(spec, base)
    from runner.backends.batch_account import BatchAccount
    from runner.backends.blob_store import BlobStore

    ctx = batch_context(
        desired,
        BatchAccount(target.batch_client("local")),
        BlobStore(target.blob_service("local"), target.storage_account_key("local")),
        WAIT,
    )
    for name in dict.fromkeys(desired.containers.values()):
        ctx.blobs.create_container(name, {})
    batch_steps.upload(ctx, desired.uploads)
    ctx.batch.create_pool(desired, ctx.signer(), ctx.workspace)
    client = target.batch_client("local")
    wait_idle(client, spec.pool.id)
    ctx.batch.create_job(desired, ctx.workspace)

    started = datetime.now(UTC)
    batch_steps.add_tasks(ctx, {t.id for t in desired.tasks})
    deadline = time.monotonic() + WAIT
    while ctx.batch.task_counts(spec.job.id).get("completed", 0) < len(desired.tasks):
        if time.monotonic() > deadline:
            raise SystemExit(f"job {spec.job.id} did not complete in {WAIT:.0f} s")
        time.sleep(0.1)
    tasks = list(client.list_tasks(spec.job.id))
    failed = [t.id for t in tasks if t.execution_info.exit_code != 0]
    if failed:
        raise SystemExit(f"{len(failed)} task(s) failed, e.g. {failed[0]}")
    end = max(t.execution_info.end_time for t in tasks)
    client.begin_delete_job(spec.job.id, polling_interval=1).result()
    client.begin_delete_pool(spec.pool.id, polling_interval=1).result()
    return (end - started).total_seconds()


def task_folders(base: Path, spec: Any, where: Path) -> list[tuple[Path, str]]:
    """A folder per task holding its input file, and the task's command."""
    from runner.engine.inputs import desired_from_files

    shutil.rmtree(where, ignore_errors=True)
    folders = []
    for task in desired_from_files(spec, base).tasks:
        folder = where / task.id
        folder.mkdir(parents=True)
        assert task.input is not None
        shutil.copyfile(task.input.path, folder / task.input.blob)
        folders.append((folder, task.command))
    return folders


def run_with_xargs(lines: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds ``xargs -P 2`` takes to run each line under ``sh -c``."""
    start = time.perf_counter()
    done = subprocess.run(
        ["xargs", "-P", str(SLOTS), "-n", "1", "-d", "\n", "sh", "-c"],
        input="\n".join(lines) + "\n",
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the baseline failed: xargs exited {done.returncode}")
    return seconds


def plain_baseline(base: Path, spec: Any) -> float:
    from runner.engine.inputs import package_path

    shared = base / "baseline" / "shared"
    folders = task_folders(base, spec, base / "baseline" / "tasks")
    shared.mkdir(parents=True)
    shutil.copyfile(package_path("package:runner/jobs/topwords.py"), shared / "topwords.py")
    env = {**os.environ, "AZ_BATCH_NODE_SHARED_DIR": str(shared)}
    return run_with_xargs([f"cd {shlex.quote(str(f))} && {cmd}" for f, cmd in folders], env)


def container_baseline(base: Path, spec: Any) -> float:
    folders = task_folders(base, spec, base / "baseline" / "tasks")
    user = f"{os.getuid()}:{os.getgid()}"  # the local Batch runs containers as its user
    lines = [
        shlex.join(
            ["docker", "run", "--rm", "--user", user, "-v", f"{f}:{f}", "-w", str(f), IMAGE]
            + ["/bin/sh", "-c", cmd]
        )
        for f, cmd in folders
    ]
    return run_with_xargs(lines)


def has_image() -> str | None:
    """Why container tasks cannot be measured, or None."""
    done = subprocess.run(
        ["docker", "image", "inspect", IMAGE], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return f"the Docker engine at {os.environ.get('DOCKER_HOST', 'its default')} lacks {IMAGE}"
    return None


def measure(target: Any, tmp: Path, kind: str, count: int) -> None:
    containers = kind == "container"
    base = tmp / kind
    write_inputs(base / "inputs", count)
    spec = spec_of(f"bench-{kind}", CONTAINER_TASKS if containers else PLAIN_TASKS, containers)
    baseline = (container_baseline if containers else plain_baseline)(base, spec)
    figure = run_on_batch(target, base, spec)
    what = f"{count} container tasks" if containers else f"{count} tasks"
    against = "docker run --rm, 2 at a time" if containers else "xargs -P 2"
    print_ratio(f"{what} on a 2-node local pool vs {against}", figure, baseline)
    result(
        f"{what} on a 2-node local pool vs the same commands under {against}",
        figure=figure,
        baseline=baseline,
        unit="s",
        goal=f"ratio <= {GOAL}",
        met=figure / baseline <= GOAL,
        per_task_ms=round(figure / count * 1000, 1),
        baseline_per_task_ms=round(baseline / count * 1000, 1),
    )


def main() -> int:
    quick = os.environ.get("RUNNER_BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200 if quick else 1000)
    parser.add_argument("--container-tasks", type=int, default=50 if quick else 200)
    parser.add_argument("--only", choices=("plain", "container"))
    args = parser.parse_args()

    kinds = [args.only] if args.only else ["plain", "container"]
    missing = has_image() if "container" in kinds else None
    if missing:
        raise SystemExit(f"cannot measure container tasks: {missing} (docker load -i / pull)")

    with tempfile.TemporaryDirectory(prefix="runner-bench-throughput-") as tmp:
        state = Path(tmp) / "local"
        os.environ["RUNNER_LOCAL_DIR"] = str(state)
        from runner.backends import local_target
        from runner.backends.target import local_target as target_of

        direct_python(Path(tmp))  # before the emulator starts: its tasks get this PATH
        status = local_target.up(state)
        try:
            target = target_of(status)
            for kind in kinds:
                count = args.container_tasks if kind == "container" else args.tasks
                measure(target, Path(tmp), kind, count)
        finally:
            local_target.down(state, purge=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
