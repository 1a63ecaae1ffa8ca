"""A result is never reported for inputs or a command it was not computed from: with the
job kept, a changed input file, another ``--var top`` or a changed task script runs the
affected tasks again, and only those."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from topwords_helpers import read_report, result_of, write_spec

pytestmark = pytest.mark.integration

KEEP_ALL = {"job": "never", "pool": "never", "containers": "never"}
TEXTS = {"a.txt": "apple apple pear\n", "b.txt": "plum plum plum fig\n"}


def plan_json(cli, args: list[str]) -> dict[str, dict]:
    plan = json.loads(cli("plan", *args, "--output", "json").expect(0).out)
    return {c["address"]: c for c in plan["changes"] if "/task/" in c["address"]}


def test_changed_input_reruns_only_its_task(cli, unique_name, tmp_path: Path) -> None:
    name = unique_name("tw-stale")
    spec = write_spec(tmp_path / "spec", name, texts=TEXTS, teardown=KEEP_ALL)
    args = cli.spec_args(spec)
    cli("apply", *args, "--yes", "--output", "json").expect(0)
    out = cli.cwd / "out" / name
    assert read_report(out / "a_OUTPUT.txt")[0][0] == ("apple", 2)

    (tmp_path / "spec" / "topwords" / "a.txt").write_text("kiwi kiwi kiwi apple\n")
    tasks = plan_json(cli, args)
    changed = tasks[f"BatchJob/{name}/task/{name}-job/topwords-a"]
    assert changed["action"] == "replace"
    assert "inputs" in changed["reason"]
    assert tasks[f"BatchJob/{name}/task/{name}-job/topwords-b"]["action"] == "no-op"

    second = result_of(cli("apply", *args, "--yes", "--output", "json").expect(0).out)
    assert second["counts"]["tasks_rerun"] == 1
    assert second["counts"]["tasks_present"] == 1
    assert read_report(out / "a_OUTPUT.txt")[0][0] == ("kiwi", 3)
    assert read_report(out / "b_OUTPUT.txt")[0][0] == ("plum", 3)

    # Applied twice, an unchanged spec runs nothing more.
    third = result_of(cli("apply", *args, "--yes", "--output", "json").expect(0).out)
    assert third["counts"]["tasks_rerun"] == 0 and third["counts"]["tasks_added"] == 0
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_another_var_reruns_every_task(cli, unique_name, tmp_path: Path) -> None:
    name = unique_name("tw-top")
    spec = write_spec(tmp_path / "spec", name, texts=TEXTS, teardown=KEEP_ALL)
    args = cli.spec_args(spec)
    cli("apply", *args, "--yes", "--output", "json").expect(0)
    out = cli.cwd / "out" / name
    assert len(read_report(out / "b_OUTPUT.txt")[0]) == 2  # plum and fig, under top 3

    top1 = [*args, "--var", "top=1"]
    tasks = plan_json(cli, top1)
    assert {c["action"] for c in tasks.values()} == {"replace"}
    assert all("command changed" in c["reason"] for c in tasks.values())

    result = result_of(cli("apply", *top1, "--yes", "--output", "json").expect(0).out)
    assert result["counts"]["tasks_rerun"] == 2
    assert read_report(out / "a_OUTPUT.txt")[0] == [("apple", 2)]
    assert read_report(out / "b_OUTPUT.txt")[0] == [("plum", 3)]
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_changed_start_task_file_reruns_tasks_on_restarted_nodes(
    cli, unique_name, tmp_path: Path
) -> None:
    name = unique_name("tw-script")
    folder = tmp_path / "spec"
    folder.mkdir()
    script = folder / "tag.py"
    script.write_text(
        "import sys; open(sys.argv[2], 'w').write('v1 ' + open(sys.argv[1]).read())\n"
    )
    spec = write_spec(
        folder,
        name,
        texts={"a.txt": "x\n"},
        teardown=KEEP_ALL,
        pool={"startTask": {"copy": ["tag.py"], "waitForSuccess": True}},
        tasks={
            "forEachFile": "topwords/*.txt",
            "id": "t-{{ file.stem }}",
            "command": "python3 $AZ_BATCH_NODE_SHARED_DIR/tag.py {{ file.name }} "
            "{{ file.stem }}.out",
            "outputs": ["{{ file.stem }}.out"],
        },
    )
    args = cli.spec_args(spec)
    cli("apply", *args, "--yes", "--output", "json").expect(0)
    out = cli.cwd / "out" / name
    assert (out / "a.out").read_text() == "v1 x\n"

    script.write_text(script.read_text().replace("'v1 '", "'v2 '"))
    plan = cli("plan", *args).expect(0).out
    assert "nodes restart to run the new start task" in plan
    result = result_of(cli("apply", *args, "--yes", "--output", "json").expect(0).out)
    assert result["counts"]["tasks_rerun"] == 1
    assert (out / "a.out").read_text() == "v2 x\n"
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_a_kept_job_applies_twice(cli, unique_name, tmp_path: Path) -> None:
    """``job: never`` alone keeps the containers too: the second apply reuses the job's
    completed tasks and collects their outputs again."""
    name = unique_name("tw-kept")
    spec = write_spec(tmp_path / "spec", name, texts=TEXTS)
    doc = yaml.safe_load(spec.read_text())
    doc["teardown"] = {"job": "never"}
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    args = cli.spec_args(spec)
    cli("apply", *args, "--yes", "--output", "json").expect(0)
    out = cli.cwd / "out" / name
    (out / "a_OUTPUT.txt").unlink()
    second = result_of(cli("apply", *args, "--yes", "--output", "json").expect(0).out)
    assert second["counts"]["tasks_present"] == 2 and second["counts"]["tasks_added"] == 0
    assert read_report(out / "a_OUTPUT.txt")[0][0] == ("apple", 2)
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_an_output_left_by_an_earlier_job_is_never_collected(
    cli, unique_name, tmp_path: Path
) -> None:
    """The job is torn down and the output container kept: a new run of the task that
    succeeds without writing its output is reported as such, not given the old file."""
    name = unique_name("tw-left")
    keep_outputs = {"job": "always", "pool": "never", "containers": "never"}
    tasks = {
        "forEachFile": "topwords/*.txt",
        "id": "t-{{ file.stem }}",
        "command": "cp {{ file.name }} {{ file.stem }}.out",
        "outputs": ["{{ file.stem }}.out"],
    }
    folder = tmp_path / "spec"
    spec = write_spec(folder, name, texts={"a.txt": "old\n"}, teardown=keep_outputs, tasks=tasks)
    args = cli.spec_args(spec)
    cli("apply", *args, "--yes").expect(0)
    out = cli.cwd / "out" / name
    assert (out / "a.out").read_text() == "old\n"
    (out / "a.out").unlink()

    write_spec(
        folder,
        name,
        texts={"a.txt": "old\n"},
        teardown=keep_outputs,
        tasks={**tasks, "command": "true"},
    )
    run = cli("apply", *args, "--yes", "--output", "json").expect(1)
    assert any("t-a succeeded but" in e for e in result_of(run.out)["errors"])
    assert not (out / "a.out").exists()
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)


def test_after_kill_9_another_var_replaces_the_running_task(
    cli, unique_name, tmp_path: Path
) -> None:
    name = unique_name("tw-kill")
    spec = write_spec(
        tmp_path / "spec",
        name,
        texts={"a.txt": "a\n"},
        teardown=KEEP_ALL,
        vars={"nap": 0},
        tasks={
            "forEachFile": "topwords/*.txt",
            "id": "t-{{ file.stem }}",
            "command": "sleep {{ vars.nap }}; echo {{ vars.top }} > {{ file.stem }}.out",
            "outputs": ["{{ file.stem }}.out"],
        },
    )
    args = cli.spec_args(spec)
    argv = [sys.executable, "-m", "runner", "apply", *args, "--yes", "--output", "json"]
    proc = subprocess.Popen(
        [*argv, "--var", "nap=60", "--var", "top=1"],
        cwd=cli.cwd,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if '"running": 1' in line:
            break
    proc.kill()
    proc.wait(timeout=30)

    again = [*args, "--var", "nap=0", "--var", "top=2"]
    (task,) = plan_json(cli, again).values()
    assert task["action"] == "replace"
    assert "command changed since it was added (running)" in task["reason"]
    result = result_of(cli("apply", *again, "--yes", "--output", "json").expect(0).out)
    assert result["counts"]["tasks_rerun"] == 1
    assert (cli.cwd / "out" / name / "a.out").read_text() == "2\n"
    cli("destroy", str(spec), "--workspace", cli.workspace, "--yes").expect(0)
