"""A merge task's identity covers its inputs, the outputs of the tasks it depends on, so
a changed input file runs the merge again; the order it receives them in is the input
files' sorted order."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_batch_plan import inputs_from

from runner.errors import SpecError
from runner.plan.batch_desired import DesiredTask, desired_batch
from runner.spec.models import BatchJob

CASE = Path(__file__).parent / "cases" / "batch" / "merge-fresh.yaml"


def _merge(files: dict[str, str]) -> DesiredTask:
    data = yaml.safe_load(CASE.read_text())
    spec = BatchJob.model_validate(data["spec"])
    desired = desired_batch(spec, inputs_from({**data["inputs"], "forEachFile": files}))
    (merge,) = [t for t in desired.tasks if t.is_merge]
    return merge


def test_a_changed_input_file_changes_the_merge_identity() -> None:
    before = _merge({"in/a.txt": "a a b\n", "in/b.txt": "b\n"})
    after = _merge({"in/a.txt": "a b b\n", "in/b.txt": "b\n"})
    assert before.command_line == after.command_line
    assert before.identity != after.identity


def test_a_new_input_file_is_a_new_merge_input() -> None:
    two = _merge({"in/a.txt": "a\n", "in/b.txt": "b\n"})
    three = _merge({"in/a.txt": "a\n", "in/b.txt": "b\n", "in/c.txt": "c\n"})
    assert [m.path for m in three.merged] == [m.path for m in two.merged] + ["tw-c/c_COUNTS.txt"]
    assert three.identity != two.identity


def test_merge_inputs_follow_the_input_files_order() -> None:
    merge = _merge({"in/b.txt": "b\n", "in/a.txt": "a\n"})
    # BatchInputs holds the files sorted, as engine/inputs.py globs them; here they are
    # given out of order, and the merge receives them in the order given.
    assert [m.task for m in merge.merged] == ["tw-b", "tw-a"]
    assert merge.depends_on == ("tw-b", "tw-a")


def test_a_merge_over_more_ids_than_batch_takes_is_refused() -> None:
    data = yaml.safe_load(CASE.read_text())
    spec = BatchJob.model_validate(data["spec"])
    files = {f"in/{'x' * 40}-{i:05d}.txt": "a\n" for i in range(1400)}
    with pytest.raises(SpecError) as info:
        desired_batch(spec, inputs_from({**data["inputs"], "forEachFile": files}))
    (problem,) = info.value.diagnostics
    assert problem.field_path == "merge"
    assert "Batch takes at most 64000 in a task's dependsOn.taskIds" in problem.summary
