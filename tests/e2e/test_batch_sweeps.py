"""Sweeps end to end on the local target: one task per row of a CSV file, with no input
files, each writing what its row and its environment (the job's, and its own rendered
from the row) say, and a merge task over their outputs; a re-apply of the kept job after
a row is added runs only the new row's task (and the merge, whose inputs changed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from topwords_helpers import result_of

pytestmark = pytest.mark.integration

KEPT = {"job": "never", "pool": "never", "containers": "never"}


def sweep_spec(folder: Path, name: str, rows: str, **changes: Any) -> Path:
    (folder / "samples.csv").write_text(rows)
    spec: dict[str, Any] = {
        "kind": "BatchJob",
        "name": name,
        "pool": {"id": f"{name}-pool", "nodes": 1, "taskSlotsPerNode": 2},
        "job": {"id": f"{name}-job", "environment": {"GREETING": "hello"}},
        "tasks": {
            "forEach": {"rows": "samples.csv"},
            "id": "s-{{ row.sample }}",
            "command": (
                'printf "%s %s %s\\n" "$GREETING" {{ row.sample }} "$((READS * 2))"'
                " > {{ row.sample }}.txt"
            ),
            "environment": {"READS": "{{ row.reads }}"},
            "outputs": ["{{ row.sample }}.txt"],
        },
        "merge": {
            "id": "all",
            "command": "cat {{ inputs | join(' ') }} > all.txt",
            "outputs": ["all.txt"],
        },
        "timeout": "5m",
        "collect": {"dir": f"out/{name}"},
        "teardown": KEPT,
        **changes,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_a_csv_sweep_runs_one_task_per_row_and_merges_them(
    cli: Any, unique_name: Any, batch_client: Any
) -> None:
    name = unique_name("sweep")
    path = sweep_spec(cli.cwd, name, "sample,reads\nalpha,10\nbeta,21\n")
    apply = ("apply", str(path), "--workspace", cli.workspace, "--yes", "--output", "json")

    counts = result_of(cli(*apply).expect(0).out)["counts"]
    assert counts["tasks_added"] == counts["succeeded"] == 3
    out = cli.cwd / "out" / name
    assert (out / "alpha.txt").read_text() == "hello alpha 20\n"
    assert (out / "beta.txt").read_text() == "hello beta 42\n"
    assert (out / "all.txt").read_text() == "hello alpha 20\nhello beta 42\n"
    # A row's task is made from its row alone: Batch fetches no file for it.
    task = batch_client.get_task(f"{name}-job", "s-alpha")
    assert not task.resource_files
    assert {e.name: e.value for e in task.environment_settings}["READS"] == "10"
    job = batch_client.get_job(f"{name}-job")
    assert [(e.name, e.value) for e in job.common_environment_settings] == [("GREETING", "hello")]

    # A new row: its task runs; the two that ran are kept; the merge runs again.
    (cli.cwd / "samples.csv").write_text("sample,reads\nalpha,10\nbeta,21\ngamma,1\n")
    counts = result_of(cli(*apply).expect(0).out)["counts"]
    assert (counts["tasks_added"], counts["tasks_rerun"]) == (2, 1)
    assert (out / "all.txt").read_text() == "hello alpha 20\nhello beta 42\nhello gamma 2\n"
    cli("destroy", str(path), "--workspace", cli.workspace, "--yes").expect(0)
