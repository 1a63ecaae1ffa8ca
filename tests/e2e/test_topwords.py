"""The Batch tutorial's top-N job end to end through the CLI on the local target: the
shipped example, other inputs, a failing task, a timeout, and a re-apply that resumes
instead of repeating."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from topwords_helpers import (
    SAMPLES,
    SHIPPED_SPEC,
    TASK_SCRIPT,
    read_report,
    reference_top,
    result_of,
    write_spec,
)

pytestmark = pytest.mark.integration


def batch_client(emulator: dict[str, Any]) -> Any:
    from runner.backends.target import local_target

    return local_target(emulator).batch_client("local")


def test_shipped_example_leaves_the_top3_of_each_sample(cli, emulator) -> None:
    run = cli("apply", *cli.spec_args(SHIPPED_SPEC), "--yes", "--output", "json").expect(0)

    result = result_of(run.out)
    assert result["ok"] is True
    counts = result["counts"]
    assert counts["uploaded"] == len(SAMPLES) + 1  # the samples and the task script
    assert counts["tasks_added"] == counts["succeeded"] == counts["downloaded"] == len(SAMPLES)
    assert counts["failed"] == 0
    out = cli.cwd / "out" / "topwords"
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{s.stem}_OUTPUT.txt" for s in SAMPLES)
    for sample in SAMPLES:
        words, footer = read_report(out / f"{sample.stem}_OUTPUT.txt")
        assert words == reference_top(sample, 3), sample.name
        assert footer["Task"] == f"topwords-{sample.stem}"
        assert footer["Job"] == "topwords-job"
        assert footer["Pool"] == "topwords-pool"
    # The default teardown removes job, pool and, after a success, the containers but
    # the output container, which holds the results and their record.
    assert {"BatchJob/topwords/job/topwords-job", "BatchJob/topwords/pool/topwords-pool"} <= set(
        result["removed"]
    )
    left = [a for a in result["left"] if "/container/" in a]
    assert [a.split(" ")[0] for a in left] == ["BatchJob/topwords/container/topwords-output"]


def test_expected_top3_agrees_with_the_task_script_run_locally() -> None:
    """The test's own reference and the shipped script agree on every sample."""
    for sample in SAMPLES:
        proc = subprocess.run(
            [sys.executable, str(TASK_SCRIPT), "--filepath", str(sample), "--numwords", "3"],
            capture_output=True,
            text=True,
            check=True,
        )
        lines = [line for line in proc.stdout.splitlines() if ":\t" in line]
        got = [(w, int(c)) for w, _, c in (line.rpartition(":\t") for line in lines)]
        assert got == reference_top(sample, 3), sample.name


def test_var_inputs_runs_other_files(cli, tmp_path: Path) -> None:
    texts = tmp_path / "mine"
    texts.mkdir()
    (texts / "first.md").write_text("beta alpha beta gamma gamma gamma\n")
    (texts / "second.md").write_text("Yes, yes; no! no. Yes?\n")
    args = cli.spec_args(SHIPPED_SPEC, inputs=f"{texts}/*.md", top="2", out="results")
    run = cli("apply", *args, "--yes", "--output", "json").expect(0)

    assert result_of(run.out)["counts"]["tasks_added"] == 2
    first, _ = read_report(cli.cwd / "results" / "first_OUTPUT.txt")
    second, footer = read_report(cli.cwd / "results" / "second_OUTPUT.txt")
    assert first == [("gamma", 3), ("beta", 2)]
    assert second == [("Yes", 2), ("no", 2)]
    assert footer["Task"] == "topwords-second"


def test_failing_task_exits_1_and_its_stderr_is_collected(cli, unique_name, tmp_path) -> None:
    name = unique_name("tw-fail")
    spec = write_spec(
        tmp_path / "spec",
        name,
        texts={"a.txt": "a\n", "b.txt": "b\n"},
        tasks={
            "forEachFile": "topwords/*.txt",
            "id": "t-{{ file.stem }}",
            "command": "echo cannot count {{ file.name }} >&2; exit 3",
            "outputs": ["{{ file.stem }}_OUTPUT.txt"],
        },
    )
    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(1)

    result = result_of(run.out)
    assert result["ok"] is False
    assert result["counts"]["failed"] == 2
    assert result["counts"]["succeeded"] == 0
    assert any("t-a" in e and "exit code 3" in e for e in result["errors"])
    out = cli.cwd / "out" / name
    assert (out / "t-a" / "stderr.txt").read_text().strip() == "cannot count a.txt"
    assert (out / "t-b" / "stderr.txt").read_text().strip() == "cannot count b.txt"
    # job and pool go whatever happened; containers only after a success.
    assert {f"BatchJob/{name}/job/{name}-job", f"BatchJob/{name}/pool/{name}-pool"} <= set(
        result["removed"]
    )
    assert any(f"/container/{name}-input" in a for a in result["left"])
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_human_output_of_a_failed_task_names_it(cli, unique_name, tmp_path) -> None:
    name = unique_name("tw-text")
    spec = write_spec(
        tmp_path / "spec",
        name,
        texts={"only.txt": "x\n"},
        tasks={
            "forEachFile": "topwords/*.txt",
            "id": "t-{{ file.stem }}",
            "command": "exit 7",
        },
        teardown={"job": "always", "pool": "always", "containers": "always"},
    )
    run = cli("apply", *cli.spec_args(spec), "--yes").expect(1)
    assert "t-only" in run.text
    assert "exit code 7" in run.text


def test_timeout_tears_down_job_and_pool(cli, emulator, unique_name, tmp_path) -> None:
    name = unique_name("tw-slow")
    spec = write_spec(
        tmp_path / "spec",
        name,
        texts={"a.txt": "a\n"},
        tasks={"forEachFile": "topwords/*.txt", "id": "t-{{ file.stem }}", "command": "sleep 60"},
        timeout="3s",
    )
    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(1)

    result = result_of(run.out)
    assert any("timed out" in e for e in result["errors"])
    assert f"BatchJob/{name}/job/{name}-job" in result["removed"]
    assert f"BatchJob/{name}/pool/{name}-pool" in result["removed"]
    client = batch_client(emulator)
    for get, ident in ((client.get_pool, f"{name}-pool"), (client.get_job, f"{name}-job")):
        try:
            state = str(get(ident).state).lower()
        except Exception as exc:  # gone already
            assert "NotFound" in str(exc), exc
        else:
            assert "deleting" in state
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_timeout_terminates_a_job_the_policy_leaves(cli, emulator, unique_name, tmp_path) -> None:
    name = unique_name("tw-stop")
    spec = write_spec(
        tmp_path / "spec",
        name,
        texts={"a.txt": "a\n"},
        tasks={"forEachFile": "topwords/*.txt", "id": "t-{{ file.stem }}", "command": "sleep 60"},
        timeout="3s",
        teardown={"job": "onSuccess", "pool": "always", "containers": "onSuccess"},
    )
    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(1)

    result = result_of(run.out)
    assert any("timed out" in e for e in result["errors"])
    job_addr = f"BatchJob/{name}/job/{name}-job"
    (left,) = [a for a in result["left"] if a.startswith(job_addr)]
    assert "terminated: runner: timed out after 3s" in left
    # The reason arrived as the terminate's JSON body (azure-batch 15.1 sends a body and
    # its Content-Type only with options that carry a value).
    job = batch_client(emulator).get_job(f"{name}-job")
    assert str(job.state).lower().endswith(("completed", "terminating"))
    assert job.execution_info.termination_reason == "runner: timed out after 3s"
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_pool_and_job_of_another_workspace_fail_plan_and_apply_naming_the_owner(
    cli, unique_name, tmp_path
) -> None:
    name = unique_name("tw-theirs")
    keep = {"job": "never", "pool": "never", "containers": "never"}
    spec = write_spec(tmp_path / "spec", name, texts={"a.txt": "a\n"}, teardown=keep)
    theirs = unique_name("ws-theirs")
    cli("apply", str(spec), "--workspace", theirs, "--yes").expect(0)
    pool, job = f"BatchJob/{name}/pool/{name}-pool", f"BatchJob/{name}/job/{name}-job"
    owner = f"made by runner spec '{name}' in workspace '{theirs}'"

    plan = cli("plan", *cli.spec_args(spec), "--detailed-exitcode").expect(1)
    assert f"Error: {pool} cannot be applied: pool exists" in plan.err
    assert f"Error: {job} cannot be applied: job exists" in plan.err
    assert plan.err.count(owner) == 2

    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(1)
    result = result_of(run.out)
    assert [e for e in result["errors"] if e.startswith(pool)] == [
        f"{pool} was not touched: pool exists but was {owner}"
    ]
    assert len([e for e in result["errors"] if e.startswith(job)]) == 1
    assert result["counts"]["tasks_added"] == 0 and not result["removed"]
    cli("destroy", str(spec), "--workspace", theirs, "--yes").expect(0)
