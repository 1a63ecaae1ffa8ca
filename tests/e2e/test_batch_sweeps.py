"""Sweeps end to end on the local target: one task per row of a CSV file, with no input
files, each writing what its row, its environment (the job's, and its own rendered from
the row) and a secret of the job say, and a merge task over their outputs; the secret is
in no Batch read of the job or its tasks; a re-apply of the kept job after a row is
added runs only the new row's task (and the merge, whose inputs changed)."""

from __future__ import annotations

import secrets as random_tokens
from pathlib import Path
from typing import Any

import pytest
import yaml
from topwords_helpers import result_of

pytestmark = pytest.mark.integration

KEPT = {"job": "never", "pool": "never", "containers": "never"}
SECRET_ENV = "RUNNER_SWEEP_SECRET"


def sweep_spec(folder: Path, name: str, rows: str, **changes: Any) -> Path:
    (folder / "samples.csv").write_text(rows)
    spec: dict[str, Any] = {
        "kind": "BatchJob",
        "name": name,
        "pool": {"id": f"{name}-pool", "nodes": 1, "taskSlotsPerNode": 2},
        "job": {
            "id": f"{name}-job",
            "environment": {"GREETING": "hello"},
            "secrets": {"TOKEN": {"fromEnv": SECRET_ENV}},
        },
        "tasks": {
            "forEach": {"rows": "samples.csv"},
            "id": "s-{{ row.sample }}",
            "command": (
                'printf "%s %s %s %s\\n" "$GREETING" {{ row.sample }} "$((READS * 2))"'
                ' "$(printf %s "$TOKEN" | wc -c | tr -d " ")" > {{ row.sample }}.txt'
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
    secret = "tok-" + random_tokens.token_urlsafe(20)
    cli.env[SECRET_ENV] = secret
    n = len(secret)
    path = sweep_spec(cli.cwd, name, "sample,reads\nalpha,10\nbeta,21\n")
    apply = ("apply", str(path), "--workspace", cli.workspace, "--yes", "--output", "json")

    counts = result_of(cli(*apply).expect(0).out)["counts"]
    assert counts["tasks_added"] == counts["succeeded"] == 3
    out = cli.cwd / "out" / name
    assert (out / "alpha.txt").read_text() == f"hello alpha 20 {n}\n"
    assert (out / "beta.txt").read_text() == f"hello beta 42 {n}\n"
    assert (out / "all.txt").read_text() == f"hello alpha 20 {n}\nhello beta 42 {n}\n"
    # A row's task is made from its row alone: Batch fetches no file for it.
    # A row's task is made from its row alone: it fetches only the file of secrets, and
    # neither its definition nor the job's holds the secret.
    task = batch_client.get_task(f"{name}-job", "s-alpha")
    assert [f.file_path for f in task.resource_files] == [".runner-secrets"]
    assert {e.name: e.value for e in task.environment_settings}["READS"] == "10"
    job = batch_client.get_job(f"{name}-job")
    assert [(e.name, e.value) for e in job.common_environment_settings] == [("GREETING", "hello")]
    for doc in (task.as_dict(), job.as_dict()):
        doc.pop("resourceFiles", None)
        doc.pop("outputFiles", None)  # the output container's write SAS, by design
        assert secret not in str(doc)

    # A new row: its task runs; the two that ran are kept; the merge runs again.
    (cli.cwd / "samples.csv").write_text("sample,reads\nalpha,10\nbeta,21\ngamma,1\n")
    counts = result_of(cli(*apply).expect(0).out)["counts"]
    assert (counts["tasks_added"], counts["tasks_rerun"]) == (2, 1)
    assert (out / "gamma.txt").read_text() == f"hello gamma 2 {n}\n"
    assert (out / "all.txt").read_text().splitlines()[2] == f"hello gamma 2 {n}"
    cli("destroy", str(path), "--workspace", cli.workspace, "--yes").expect(0)
