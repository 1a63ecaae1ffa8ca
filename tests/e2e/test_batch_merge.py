"""A Batch job with a merge task end to end through the CLI on the local target: the
merge runs after every mapped task, on the files they hand it; a failed mapped task
blocks it (dependencyAction block), and apply says so and ends at once rather than at
the job's timeout; with dependencyAction satisfy it runs on what there is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from topwords_helpers import result_of

pytestmark = pytest.mark.integration


def _spec(folder: Path, name: str, texts: dict[str, str], **tasks: Any) -> Path:
    inputs = folder / "in"
    inputs.mkdir()
    for file_name, text in texts.items():
        (inputs / file_name).write_text(text)
    spec = {
        "kind": "BatchJob",
        "name": name,
        "pool": {"id": f"{name}-pool", "nodes": 1},
        "job": {"id": f"{name}-job"},
        "tasks": {
            "forEachFile": "in/*.txt",
            "id": "count-{{ file.stem }}",
            # A file holding "fail" makes its task fail, once it wrote its count (Batch
            # uploads a failed task's outputs too).
            "command": "wc -w < {{ file.name }} > {{ file.stem }}.count && "
            "grep -qv fail {{ file.name }}",
            "outputs": ["{{ file.stem }}.count"],
            **tasks,
        },
        "merge": {
            "id": "total",
            "command": "cat {{ inputs | join(' ') }} | awk '{s += $1} END {print s}' > total.txt",
            "outputs": ["total.txt"],
        },
        "timeout": "5m",
        "collect": {"dir": f"out/{name}"},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_merge_sums_what_every_mapped_task_hands_it(cli, unique_name) -> None:
    name = unique_name("merge")
    spec = _spec(cli.cwd, name, {"a.txt": "one two three\n", "b.txt": "four five\n"})
    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(0)

    assert result_of(run.out)["counts"]["tasks_added"] == 3
    out = cli.cwd / "out" / name
    assert (out / "total.txt").read_text() == "5\n"
    assert (out / "a.count").read_text() == "3\n"


def test_failed_mapped_task_blocks_the_merge_and_apply_says_so(cli, unique_name) -> None:
    name = unique_name("blocked")
    spec = _spec(cli.cwd, name, {"a.txt": "one two\n", "b.txt": "fail\n"})
    plan = cli("plan", *cli.spec_args(spec)).expect(0)
    assert "one that fails blocks it (dependencyAction: block)" in plan.text

    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(1)
    result = result_of(run.out)
    assert result["counts"]["blocked"] == 1
    assert result["counts"]["failed"] == 1
    text = run.text
    assert "task total did not run: count-b failed (exit code 1) and blocks it" in text
    assert "timed out" not in text
    assert not (cli.cwd / "out" / name / "total.txt").exists()


def test_with_satisfy_the_merge_runs_after_a_failure(cli, unique_name) -> None:
    name = unique_name("satisfy")
    spec = _spec(
        cli.cwd, name, {"a.txt": "one two\n", "b.txt": "fail\n"}, dependencyAction="satisfy"
    )
    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(1)

    # The merge ran on what the tasks wrote; the failed task still fails the run.
    assert (cli.cwd / "out" / name / "total.txt").read_text() == "3\n"
    assert result_of(run.out)["counts"]["failed"] == 1


def test_ranged_dependencies_chain_tasks_that_could_run_at_once(cli, unique_name) -> None:
    name = unique_name("chain")
    (cli.cwd / "in").mkdir()
    for n in (1, 2, 3):
        (cli.cwd / "in" / f"{n}.txt").write_text(f"{n}\n")
    ledger = cli.cwd / "ledger.txt"
    spec = {
        "kind": "BatchJob",
        "name": name,
        # Three slots: without dependencies the three tasks would run at once, and the
        # shortest sleep, task 3's, would write first.
        "pool": {"id": f"{name}-pool", "nodes": 1, "taskSlotsPerNode": 3},
        "job": {"id": f"{name}-job"},
        "tasks": {
            "forEachFile": "in/*.txt",
            "id": "{{ file.stem }}",
            "command": "sleep 0.$((4 - {{ file.stem }})) && cat {{ file.name }} >> " + str(ledger),
            "dependsOn": {"taskIdRanges": [{"start": 1, "end": "{{ file.stem | int - 1 }}"}]},
        },
        "timeout": "5m",
        "collect": {"dir": f"out/{name}"},
    }
    path = cli.cwd / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    cli("apply", *cli.spec_args(path), "--yes", "--output", "json").expect(0)

    assert ledger.read_text().split() == ["1", "2", "3"]
