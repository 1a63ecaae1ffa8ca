"""The Batch fact step: the files a spec names, globbed, resolved and hashed once."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from runner.engine.inputs import read_inputs
from runner.errors import SpecError
from runner.spec.models import BatchJob
from runner.spec.sweeps import ForEach


def spec(copy: list[str], pattern: str = "in/*.txt") -> BatchJob:
    return BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": "tw",
            "pool": {"id": "tw-pool", "startTask": {"copy": copy}},
            "job": {"id": "tw-job"},
            "tasks": {"forEachFile": pattern, "id": "tw-{{ file.stem }}", "command": "true"},
            "collect": {"dir": "out"},
        }
    )


def md5_of(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def test_inputs_are_the_sorted_glob_matches_with_their_content_md5(tmp_path: Path) -> None:
    (tmp_path / "in" / "sub").mkdir(parents=True)
    (tmp_path / "in" / "b.txt").write_bytes(b"b b")
    (tmp_path / "in" / "a.txt").write_bytes(b"a")
    (tmp_path / "in" / "sub.txt").mkdir()  # a folder the glob matches is no input
    (tmp_path / "app.py").write_bytes(b"print(1)")

    facts = read_inputs(spec(["app.py", "package:runner/jobs/topwords.py"]), tmp_path)

    assert [(f.path, f.md5, f.size) for f in facts.inputs] == [
        (tmp_path / "in" / "a.txt", md5_of(b"a"), 1),
        (tmp_path / "in" / "b.txt", md5_of(b"b b"), 3),
    ]
    app, shipped = facts.start_files
    assert (app.path, app.md5) == (tmp_path / "app.py", md5_of(b"print(1)"))
    assert shipped.path.name == "topwords.py" and shipped.path.parent.name == "jobs"
    assert shipped.md5 == md5_of(shipped.path.read_bytes())


def test_a_glob_matching_nothing_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        read_inputs(spec([], pattern="in/*.csv"), tmp_path)
    (problem,) = info.value.diagnostics
    assert problem.field_path == "tasks.forEachFile"
    assert "'in/*.csv' matched no files" in problem.summary


def test_a_missing_start_task_file_is_a_spec_error(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("a")
    for entry, says in (
        ("app/task.py", "start task file 'app/task.py' does not exist"),
        ("package:runner/jobs/nothing.py", "names no file of the package"),
    ):
        with pytest.raises(SpecError) as info:
            read_inputs(spec([entry]), tmp_path)
        assert says in info.value.diagnostics[0].summary
        assert info.value.diagnostics[0].field_path == "pool.startTask.copy"


def test_a_rows_sweep_reads_its_rows_and_hashes_the_file(tmp_path: Path) -> None:
    data = b"sample,reads\na,1\nb,2\n"
    (tmp_path / "samples.csv").write_bytes(data)
    sweep = spec([]).model_copy(
        update={
            "tasks": spec([]).tasks.model_copy(
                update={"for_each_file": None, "for_each": ForEach(rows="samples.csv")}
            )
        }
    )
    facts = read_inputs(sweep, tmp_path)
    assert facts.inputs == ()
    assert facts.rows_file is not None and facts.rows_file.md5 == md5_of(data)
    assert [(r.fields, r.line) for r in facts.rows] == [
        ({"sample": "a", "reads": "1"}, 2),
        ({"sample": "b", "reads": "2"}, 3),
    ]
