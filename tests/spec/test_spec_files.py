"""``runner validate``, ``plan`` and ``apply`` check the local files a spec names, located
in the spec, before they reach a target."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.spec.files import check_files
from runner.spec.loader import load_specs

JOB = """\
kind: BatchJob
name: words
pool:
  id: words-pool
  startTask:
    copy: ["package:runner/jobs/topwords.py", "{copy}"]
job: {{id: words-job}}
tasks:
  forEachFile: "{pattern}"
  id: "t-{{{{ file.stem }}}}"
  command: "cat {{{{ file.name }}}}"
collect: {{dir: out/words}}
"""


def _write(tmp_path: Path, pattern: str = "in/*.txt", copy: str = "helper.sh") -> Path:
    spec = tmp_path / "job.yaml"
    spec.write_text(JOB.format(pattern=pattern, copy=copy))
    return spec


def test_present_files_pass(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("a b c\n")
    (tmp_path / "helper.sh").write_text("true\n")
    (loaded,) = load_specs([_write(tmp_path)])
    assert check_files(loaded) == []


def test_missing_inputs_and_start_task_files_are_located(tmp_path: Path) -> None:
    (loaded,) = load_specs([_write(tmp_path, copy="package:runner/jobs/nothing.py")])
    first, second = check_files(loaded)
    assert first.span is not None and (first.span.line, first.span.col) == (9, 16)
    assert first.summary == f"tasks.forEachFile 'in/*.txt' matches no files under {tmp_path}"
    assert second.span is not None and (second.span.line, second.span.col) == (6, 47)
    assert second.field_path == "pool.startTask.copy[1]"
    assert "'package:runner/jobs/nothing.py' does not exist (shipped with runner)" in (
        second.summary
    )


def test_validate_reports_missing_files_unless_told_not_to(tmp_path: Path) -> None:
    (tmp_path / "helper.sh").write_text("true\n")
    _write(tmp_path)
    run = [sys.executable, "-m", "runner", "validate", "job.yaml"]
    failed = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert failed.returncode == 1
    assert failed.stderr.startswith("job.yaml:9:16: error: tasks.forEachFile 'in/*.txt'")
    skipped = subprocess.run(
        [*run, "--no-check-files"], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert skipped.returncode == 0, skipped.stderr


def test_a_collect_folder_that_is_a_file_is_located(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("a\n")
    (tmp_path / "helper.sh").write_text("true\n")
    (loaded,) = load_specs([_write(tmp_path)])
    (tmp_path / "out").write_text("not a folder\n")
    (problem,) = check_files(loaded, cwd=tmp_path)
    assert problem.field_path == "collect.dir"
    assert problem.span is not None and (problem.span.line, problem.span.col) == (12, 16)
    assert problem.summary == (
        f"collect folder {tmp_path}/out/words cannot be made: {tmp_path}/out is not a folder"
    )
    (tmp_path / "out").unlink()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "words").write_text("")
    (problem,) = check_files(loaded, cwd=tmp_path)
    assert problem.summary == f"collect folder {tmp_path}/out/words exists and is not a folder"


GROUP = """\
kind: ContainerGroup
name: once
resourceGroup: rg
restartPolicy: Never
containers:
  - {name: once, image: busybox, command: [echo, hi]}
collect: {dir: results}
"""


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_plan_and_apply_stop_at_local_problems_before_starting_the_target(
    tmp_path: Path, command: str
) -> None:
    """A glob that matches nothing and a collect folder that is a file: both named, exit 1,
    and the local target never started (its state folder stays empty)."""
    (tmp_path / "helper.sh").write_text("true\n")
    _write(tmp_path)
    (tmp_path / "group.yaml").write_text(GROUP)
    (tmp_path / "results").write_text("")
    state = tmp_path / "local-state"
    env = {**os.environ, "RUNNER_LOCAL_DIR": str(state), "RUNNER_TARGET": "local"}
    argv = [sys.executable, "-m", "runner", command, "job.yaml", "group.yaml"]
    if command == "apply":
        argv.append("--yes")
    run = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert run.returncode == 1, run.stderr
    assert "job.yaml:9:16: error: tasks.forEachFile 'in/*.txt' matches no files" in run.stderr
    assert f"group.yaml:7:16: error: collect folder {tmp_path}/results exists" in run.stderr
    assert not state.exists() or not any(state.iterdir())
