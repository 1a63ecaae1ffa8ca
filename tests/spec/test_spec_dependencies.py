"""Task dependencies are checked on the ids the input files give, before anything is
made: a dependency on a task the job lacks, an id range that covers none and tasks that
wait for each other are located at the field that says so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runner.spec.files import check_files
from runner.spec.loader import load_specs
from runner.spec.task_graph import find_cycle

JOB = """\
kind: BatchJob
name: words
pool: {{id: words-pool}}
job: {{id: words-job}}
tasks:
  forEachFile: "in/*.txt"
  id: "{{{{ file.stem }}}}"
  command: "cat {{{{ file.name }}}} > {{{{ file.stem }}}}.out"
  outputs: ["{{{{ file.stem }}}}.out"]
  dependsOn: {depends}
{merge}collect: {{dir: out/words}}
"""
MERGE = 'merge: {id: total, command: "cat */*.out > all.out", outputs: [all.out]}\n'


def _loaded(tmp_path: Path, depends: str, merge: str = "", names: str = "a b") -> Path:
    (tmp_path / "in").mkdir()
    for name in names.split():
        (tmp_path / "in" / f"{name}.txt").write_text("x\n")
    spec = tmp_path / "job.yaml"
    spec.write_text(JOB.format(depends=depends, merge=merge))
    return spec


def _problems(spec: Path) -> list[tuple[str, int, int, str]]:
    (loaded,) = load_specs([spec])
    out = []
    for d in check_files(loaded, cwd=spec.parent):
        assert d.span is not None
        out.append((d.summary, d.span.line, d.span.col, d.field_path))
    return out


def test_dependencies_on_tasks_of_the_job_pass(tmp_path: Path) -> None:
    # b waits for a; a's id renders empty, which names no dependency.
    spec = _loaded(tmp_path, "{taskIds: [\"{% if file.stem == 'b' %}a{% endif %}\"]}", MERGE)
    assert _problems(spec) == []


def test_unknown_task_is_located_at_the_id(tmp_path: Path) -> None:
    spec = _loaded(tmp_path, "{taskIds: [prepare]}")
    ((summary, line, col, field),) = _problems(spec)
    assert summary == "task 'a' depends on task 'prepare', which is not a task of the job"
    assert (line, col, field) == (10, 25, "tasks.dependsOn.taskIds[0]")


def test_range_covering_no_task_is_located_at_the_range(tmp_path: Path) -> None:
    spec = _loaded(tmp_path, "{taskIdRanges: [{start: 1, end: 5}]}")
    ((summary, line, col, field),) = _problems(spec)
    assert summary == "task 'a' depends on the task ids 1-5, and no task of the job has one"
    assert (line, field) == (10, "tasks.dependsOn.taskIdRanges[0]")


def test_tasks_that_wait_for_each_other_are_a_cycle(tmp_path: Path) -> None:
    spec = _loaded(tmp_path, "{taskIds: [\"{{ 'b' if file.stem == 'a' else 'a' }}\"]}")
    ((summary, line, _col, field),) = _problems(spec)
    assert summary == "tasks wait for each other: 'a' -> 'b' -> 'a': a dependency cycle"
    assert (line, field) == (10, "tasks.dependsOn")


def test_merge_id_that_is_a_mapped_task_id_is_located(tmp_path: Path) -> None:
    spec = _loaded(tmp_path, "{}", merge=MERGE.replace("id: total", "id: a"))
    ((summary, line, col, field),) = _problems(spec)
    assert summary == "merge task id 'a' is also a mapped task's id"
    assert (line, col, field) == (11, 13, "merge.id")


def test_validate_refuses_a_dependency_cycle_with_a_located_error(tmp_path: Path) -> None:
    spec = _loaded(tmp_path, '{taskIds: ["{{ file.stem }}"]}')
    done = subprocess.run(
        [sys.executable, "-m", "runner", "validate", str(spec)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"{spec}:10:" in done.stderr or "job.yaml:10:" in done.stderr
    assert "'a' -> 'a': a dependency cycle" in done.stderr
    assert "Traceback" not in done.stderr


def test_find_cycle_returns_the_path_back_to_its_start() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b", "c"], "b": ["c"], "c": []}) is None


RANGED = """\
kind: BatchJob
name: chain
pool: {{id: chain-pool}}
job: {{id: chain-job}}
tasks:
  forEachFile: "in/*.txt"
  id: "{{{{ file.stem }}}}"
  command: "cat {{{{ file.name }}}}"
  dependsOn:
    taskIdRanges: [{{start: 1, end: "{end}"}}]
collect: {{dir: out/chain}}
"""


def _ranged(tmp_path: Path, end: str) -> Path:
    (tmp_path / "in").mkdir()
    for n in (1, 2, 3):
        (tmp_path / "in" / f"{n}.txt").write_text("x\n")
    spec = tmp_path / "chain.yaml"
    spec.write_text(RANGED.format(end=end))
    return spec


def test_a_range_bound_may_be_a_template_over_the_file(tmp_path: Path) -> None:
    # Each task waits for the ones before it; task 1's range ends first: it names none.
    assert _problems(_ranged(tmp_path, "{{ file.stem | int - 1 }}")) == []


def test_a_range_bound_that_is_no_whole_number_is_located(tmp_path: Path) -> None:
    ((summary, line, _col, field),) = _problems(_ranged(tmp_path, "{{ file.stem }}x"))
    assert (
        summary == "task id range bound '{{ file.stem }}x' gives '1x' for 1.txt, not a whole number"
    )
    assert (line, field) == (10, "tasks.dependsOn.taskIdRanges[0]")
