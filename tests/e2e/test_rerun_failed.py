"""``runner apply --rerun-failed`` on a kept job, end to end on the local target: the failed
task runs again, and only it; the merge task it blocked runs once it has succeeded; a
completed task never runs twice. Without the flag the plan leaves the failure as it is and
says how to run it again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from topwords_helpers import json_lines, result_of

pytestmark = pytest.mark.integration


def kept_job_spec(folder: Path, name: str, ready: Path) -> Path:
    """Two mapped tasks counting words and a merge summing them; the task of ``b.txt``
    fails until ``ready`` exists (its command stays the same: only the world changed)."""
    inputs = folder / "in"
    inputs.mkdir(parents=True)
    (inputs / "a.txt").write_text("one two three\n")
    (inputs / "b.txt").write_text("four five\n")
    spec = {
        "kind": "BatchJob",
        "name": name,
        "pool": {"id": f"{name}-pool", "nodes": 1},
        "job": {"id": f"{name}-job"},
        "tasks": {
            "forEachFile": "in/*.txt",
            "id": "count-{{ file.stem }}",
            "command": "wc -w < {{ file.name }} > {{ file.stem }}.count && "
            f'{{ [ {{{{ file.stem }}}} != b ] || [ -e "{ready}" ]; }}',
            "outputs": ["{{ file.stem }}.count"],
        },
        "merge": {
            "id": "total",
            "command": "cat {{ inputs | join(' ') }} | awk '{s += $1} END {print s}' > total.txt",
            "outputs": ["total.txt"],
        },
        "timeout": "2m",
        "collect": {"dir": f"out/{name}"},
        "teardown": {"job": "never", "pool": "never"},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def task_changes(out: str) -> dict[str, dict[str, Any]]:
    """The task changes of the plan an apply printed (a plan's own output is the plan)."""
    lines = json_lines(out)
    (plan,) = [line.get("plan", line) for line in lines if "changes" in line.get("plan", line)]
    return {c["address"].rsplit("/", 1)[1]: c for c in plan["changes"] if "/task/" in c["address"]}


def started(emulator: dict[str, Any], job_id: str, task_id: str) -> Any:
    from runner.backends.target import local_target

    client = local_target(emulator).batch_client("local")
    return client.get_task(job_id, task_id).execution_info.start_time


def test_rerun_failed_runs_the_failed_task_again_and_then_the_merge_it_blocked(
    cli, emulator, unique_name, tmp_path
) -> None:
    name = unique_name("rerun")
    ready = tmp_path / "ready"
    spec = kept_job_spec(tmp_path / "spec", name, ready)
    first = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json", timeout=120)
    first.expect(1)
    assert result_of(first.out)["counts"]["failed"] == 1
    a_ran = started(emulator, f"{name}-job", "count-a")

    plan = cli("plan", *cli.spec_args(spec), "--output", "json").expect(0)
    kept = task_changes(plan.out)
    assert kept["count-b"]["action"] == "no-op"
    assert "`runner apply --rerun-failed` runs it again" in kept["count-b"]["reason"]

    ready.write_text("")
    rerun = cli(
        "apply", *cli.spec_args(spec), "--rerun-failed", "--yes", "--output", "json", timeout=120
    )
    rerun.expect(0)
    changes = task_changes(rerun.out)
    assert changes["count-b"]["action"] == "replace"
    assert changes["count-b"]["reason"].startswith("rerun: it failed (exit code 1)")
    assert changes["count-a"]["action"] == "no-op"
    assert "runs once count-b (run again) has succeeded" in changes["total"]["reason"]
    counts = result_of(rerun.out)["counts"]
    assert (counts["tasks_rerun"], counts["tasks_added"], counts["failed"]) == (1, 1, 0)
    assert (cli.cwd / "out" / name / "total.txt").read_text().strip() == "5"
    assert started(emulator, f"{name}-job", "count-a") == a_ran  # never run twice
