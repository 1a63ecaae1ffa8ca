"""Sweeps (``tasks.forEach``): one task per value, per number of a range or per row of a CSV
or JSON Lines file. The rows and what the templates make of them are checked offline,
before anything is read from or sent to a target, and located: a problem of a row at its
line in the rows file, naming the template that needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import Diagnostic, SpecError
from runner.render.diagnostics import format_spec_error
from runner.spec.files import check_files, raise_file_problems
from runner.spec.loader import load_specs
from runner.spec.sweeps import RowsProblem, parse_rows

JOB = """\
kind: BatchJob
name: sweep
pool: {{id: sweep-pool}}
job: {{id: sweep-job}}
tasks:
  forEach:
    {sweep}
  id: "{task_id}"
  command: "{command}"
collect: {{dir: out/sweep}}
"""


def _spec(tmp_path: Path, sweep: str, task_id: str, command: str = "echo hi") -> Path:
    path = tmp_path / "job.yaml"
    path.write_text(JOB.format(sweep=sweep, task_id=task_id, command=command))
    return path


def _problems(spec: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(spec.parent)
    loaded = load_specs([spec.name])
    with pytest.raises(SpecError) as info:
        raise_file_problems(loaded)
    return format_spec_error(info.value)


def test_values_range_and_rows_sweeps_pass_the_checks(tmp_path: Path) -> None:
    (tmp_path / "samples.csv").write_text("sample,reads\na,1\nb,2\n")
    for sweep, task_id in (
        ("values: [x, y]", "v-{{ item }}"),
        ("range: {start: 1, end: 9, step: 4}", "r-{{ item }}"),
        ("rows: samples.csv", "s-{{ row.sample }}-{{ index }}"),
    ):
        (loaded,) = load_specs([_spec(tmp_path, sweep, task_id, "echo {{ index }}")])
        assert check_files(loaded, cwd=tmp_path) == [], sweep


def test_validate_says_what_the_tasks_are_made_from(tmp_path: Path) -> None:
    (tmp_path / "samples.jsonl").write_text('{"sample": "a"}\n')
    _spec(tmp_path, "rows: samples.jsonl", "s-{{ row.sample }}")
    run = [sys.executable, "-m", "runner", "validate", "job.yaml"]
    done = subprocess.run(run, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "one task per row of samples.jsonl" in done.stdout


def test_a_field_a_row_lacks_is_located_at_the_row_and_names_the_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "samples.jsonl").write_text('{"sample": "a", "reads": 1}\n\n{"sample": "b"}\n')
    spec = _spec(tmp_path, "rows: samples.jsonl", "s-{{ row.sample }}", "n={{ row.reads }}")
    assert _problems(spec, monkeypatch) == (
        "samples.jsonl:3:1: error: task template 'n={{ row.reads }}' for row 2 "
        "(samples.jsonl:3): the row has no field 'reads' (its fields: sample) [tasks.command]\n"
        "  tasks.command (job.yaml:9:12) uses the field; every row needs it\n"
        "2 |\n"
        '3 | {"sample": "b"}\n'
        "  | ^\n"
    )


def test_a_csv_row_with_a_missing_cell_is_located_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "samples.csv").write_text('sample,note\na,"two\nlines"\nb\n')
    spec = _spec(tmp_path, "rows: samples.csv", "s-{{ row.sample }}")
    rendered = _problems(spec, monkeypatch)
    assert rendered.startswith(
        "samples.csv:4:1: error: the row has 1 field and the header 2 (sample, note) "
        "[tasks.forEach.rows]\n"
    )


def test_a_line_that_is_not_json_is_located_at_its_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "samples.jsonl").write_text('{"sample": "a"}\n{"sample": b}\n')
    spec = _spec(tmp_path, "rows: samples.jsonl", "s-{{ row.sample }}")
    rendered = _problems(spec, monkeypatch)
    assert rendered.startswith(
        "samples.jsonl:2:12: error: not JSON: Expecting value [tasks.forEach.rows]\n"
    )


def test_an_empty_or_missing_rows_file_is_located_at_forEach_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec(tmp_path, "rows: samples.csv", "s-{{ row.sample }}")
    assert _problems(spec, monkeypatch).startswith(
        "job.yaml:7:11: error: rows file samples.csv does not exist [tasks.forEach.rows]"
    )
    (tmp_path / "samples.csv").write_text("sample,reads\n\n")
    assert _problems(spec, monkeypatch).startswith(
        "job.yaml:7:11: error: samples.csv has no data rows under its header: an empty "
        "sweep makes no tasks [tasks.forEach.rows]"
    )


def test_rows_that_give_one_id_twice_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "samples.csv").write_text("sample\nA\nb\na\n")
    spec = _spec(tmp_path, "rows: samples.csv", "s-{{ row.sample }}")
    assert _problems(spec, monkeypatch).startswith(
        "job.yaml:8:7: error: task id 's-a' is made for both row 1 (samples.csv:2) and row 3 "
        "(samples.csv:4): the ids of a job's tasks must differ (Batch ignores case) [tasks.id]"
    )


def test_file_in_a_sweep_is_located_at_the_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec(tmp_path, "values: [a]", "v-{{ item }}", "cat {{ file.name }}")
    assert _problems(spec, monkeypatch).startswith(
        "job.yaml:9:12: error: task template 'cat {{ file.name }}' for item 0 ('a'): file is "
        "defined only in a BatchJob's tasks.id, tasks.command, tasks.outputs, "
        "tasks.environment, tasks.dependsOn and merge.inputs, with tasks.forEachFile "
        "[tasks.command]"
    )


def test_an_invalid_id_from_a_value_names_the_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = _spec(tmp_path, "values: [0.1, 0.2]", "lr-{{ item }}")
    assert _problems(spec, monkeypatch).startswith(
        "job.yaml:8:7: error: task id 'lr-0.1' (from item 0 (0.1)) is not a Batch id: 1-64 "
        "letters, digits, '-' and '_', and it holds '.' (and 1 more task) [tasks.id]"
    )


def test_dependencies_of_sweep_tasks_see_the_item(tmp_path: Path) -> None:
    def problems(previous: str) -> list[Diagnostic]:
        command = 'true"\n  dependsOn: {taskIds: ["' + previous + '"]}\n  x: "'
        path = _spec(tmp_path, "range: {start: 1, end: 3}", "{{ item }}", command)
        path.write_text(path.read_text().replace('\n  x: ""', ""))
        (loaded,) = load_specs([path])
        return check_files(loaded, cwd=tmp_path)

    assert problems("{{ item - 1 if item > 1 else '' }}") == []
    (problem,) = problems("{{ item + 1 }}")
    assert problem.field_path == "tasks.dependsOn.taskIds[0]"
    assert problem.summary == "task '3' depends on task '4', which is not a task of the job"


def test_rows_keep_their_lines_past_blank_lines_and_quoted_newlines() -> None:
    rows = parse_rows('\ufeffa,b\n\n1,"x\ny"\n2,z\n', "r.csv")
    assert [(r.fields, r.line) for r in rows] == [
        ({"a": "1", "b": "x\ny"}, 3),
        ({"a": "2", "b": "z"}, 5),
    ]


def test_a_header_naming_a_field_twice_is_refused() -> None:
    with pytest.raises(RowsProblem) as info:
        parse_rows("a,a\n1,2\n", "r.csv")
    assert (str(info.value), info.value.line) == ("r.csv:1: the header names 'a' twice", 1)


def test_a_json_row_that_is_no_object_is_refused() -> None:
    with pytest.raises(RowsProblem) as info:
        parse_rows('{"a": 1}\n[1]\n', "r.jsonl")
    assert (
        str(info.value) == 'r.jsonl:2: a row is a JSON object ({"name": value, ...}), not an array'
    )
