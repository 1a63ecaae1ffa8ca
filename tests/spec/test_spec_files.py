"""``runner validate`` checks the local files a Batch job names, located in the spec."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
