"""Benchmark of container group applies and plans against the local target.

Starts a local target of its own (state in a temporary folder, the instant runtime, so no
Docker engine is needed and only the API's concurrency is measured) and, in one run:

- applies one group, then 50 independent groups, with 300 ms of injected latency on each
  long-running operation (median of 3 runs); goal: the 50 take under 1.5x the time of the
  one (operations run concurrently);
- counts the requests of a no-op ``plan`` of 200 groups next to one of 20; goal: the same
  small number (one paged list per resource group), not one request per group.

The engine is called in process (``runner.engine.api``), as the CLI calls it, so Python's
start-up is not part of either figure.

    python benchmarks/aci_apply.py [--groups 50] [--latency 0.3] [--plan-groups 200] [--runs 3]

With RUNNER_BENCH_QUICK=1 the defaults are 20 groups, a plan of 100 and one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import print_ratio, result

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPEC = """\
kind: ContainerGroup
name: {name}
resourceGroup: {rg}
restartPolicy: Always
containers:
  - name: app
    image: runner-test/busybox:1
    cpu: 0.5
    memoryInGB: 0.5
    command: [sleep, "3600"]
"""
GROUPS_ROUTE = "Microsoft.ContainerInstance/containerGroups"
APPLY_GOAL = 1.5
PLAN_REQUEST_GOAL = 10


def write_specs(folder: Path, rg: str, count: int, prefix: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    docs = [SPEC.format(name=f"{prefix}-{i:03d}", rg=rg) for i in range(count)]
    (folder / "groups.yaml").write_text("---\n".join(docs))
    return folder


def noop_emit(_event: Any) -> None:
    pass


def timed_apply(folder: Path, workspace: str) -> float:
    from runner.backends.target import get_target
    from runner.engine import api
    from runner.spec.loader import load_specs

    specs = load_specs([folder])
    target = get_target("local")
    start = time.perf_counter()
    plan = api.build_plan(specs, target, workspace)
    outcome = api.apply(
        plan, specs, target, noop_emit, workspace=workspace, cancel=threading.Event()
    )
    seconds = time.perf_counter() - start
    if not outcome.ok:
        raise SystemExit(f"apply of {folder} failed: {outcome.errors}")
    return seconds


def plan_requests(folder: Path, workspace: str, status: dict[str, Any]) -> tuple[int, bool]:
    """Requests sent by a plan of the specs in ``folder``, and whether it had no changes."""
    from runner.backends import local_target
    from runner.backends.target import get_target
    from runner.engine import api
    from runner.spec.loader import load_specs

    specs = load_specs([folder])
    target = get_target("local")
    local_target.reset_counters(status)
    plan = api.build_plan(specs, target, workspace)
    seen = local_target.counters(status)
    for route, n in sorted(seen.items(), key=lambda kv: -kv[1]):
        print(f"  {n:5d}  {route}", flush=True)
    return sum(seen.values()), not plan.has_changes


def destroy(workspace: str) -> None:
    from runner.backends.target import get_target
    from runner.engine import api

    api.destroy(None, get_target("local"), noop_emit, workspace=workspace)


def main() -> int:
    quick = os.environ.get("RUNNER_BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=20 if quick else 50)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--plan-groups", type=int, default=100 if quick else 200)
    parser.add_argument("--runs", type=int, default=1 if quick else 3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="runner-bench-aci-") as tmp:
        work = Path(tmp)
        os.environ["RUNNER_LOCAL_DIR"] = str(work / "local")
        os.environ["RUNNER_LOCAL_RUNTIME"] = "instant"
        from runner.backends import local_target

        status = local_target.up(work / "local")
        try:
            return run(work, status, args)
        finally:
            local_target.down(work / "local", purge=True)


def run(work: Path, status: dict[str, Any], args: argparse.Namespace) -> int:
    from runner.backends import local_target

    # Warm up imports, connections and the emulator's first requests.
    timed_apply(write_specs(work / "warm", "bench-warm", 1, "warm"), "bench-warm")
    destroy("bench-warm")

    local_target.set_faults(
        status,
        [
            {
                "api": "arm",
                "method": "*",
                "route": GROUPS_ROUTE,
                "fault": "latency",
                "lro_latency": args.latency,
            }
        ],
    )
    # Fresh groups each run (new resource groups and workspaces): the target is purged at
    # the end, so no run waits for another's deletes.
    ones, manys = [], []
    for i in range(args.runs):
        one_specs = write_specs(work / f"one-{i}", f"bench-one-{i}", 1, "one")
        many_specs = write_specs(work / f"many-{i}", f"bench-many-{i}", args.groups, "many")
        ones.append(timed_apply(one_specs, f"bench-one-{i}"))
        manys.append(timed_apply(many_specs, f"bench-many-{i}"))
    local_target.clear_faults(status)
    one, many = statistics.median(ones), statistics.median(manys)
    label = f"apply of {args.groups} groups vs 1, {int(args.latency * 1000)} ms LRO latency"
    print_ratio(f"{label} (median of {args.runs})", many, one)
    result(
        label,
        figure=many,
        baseline=one,
        unit="s",
        goal=f"ratio < {APPLY_GOAL}",
        met=many / one < APPLY_GOAL,
    )

    small_n = max(1, args.plan_groups // 10)
    big = write_specs(work / "plan-big", "bench-plan-big", args.plan_groups, "p")
    small = write_specs(work / "plan-small", "bench-plan-small", small_n, "q")
    timed_apply(big, "bench-plan")
    timed_apply(small, "bench-plan-small")
    big_requests, big_noop = plan_requests(big, "bench-plan", status)
    small_requests, small_noop = plan_requests(small, "bench-plan-small", status)
    print(
        f"no-op plan requests: {big_requests} for {args.plan_groups} groups, "
        f"{small_requests} for {small_n}",
        flush=True,
    )
    result(
        f"requests of a no-op plan of {args.plan_groups} groups (vs {small_n})",
        figure=big_requests,
        baseline=small_requests,
        unit="requests",
        goal=f"no changes and at most {PLAN_REQUEST_GOAL} requests, not one per group",
        met=big_noop and small_noop and big_requests <= PLAN_REQUEST_GOAL,
    )
    destroy("bench-plan")
    destroy("bench-plan-small")
    return 0


if __name__ == "__main__":
    sys.exit(main())
