"""A saved plan made stale by local files names them: content changed, new, gone."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from runner.plan.batch import ObservedBatch, diff_desired
from runner.plan.batch_desired import desired_batch
from runner.plan.batch_inputs import BatchInputs, InputFile
from runner.plan.model import Plan
from runner.plan.stale import changed_files
from runner.spec.models import BatchJob

SPEC = BatchJob.model_validate(
    {
        "kind": "BatchJob",
        "name": "tw",
        "pool": {"id": "tw-pool", "startTask": {"copy": ["app/task.py"]}},
        "job": {"id": "tw-job"},
        "tasks": {"forEachFile": "in/*.txt", "id": "tw-{{ file.stem }}", "command": "true"},
        "collect": {"dir": "out"},
    }
)


def file(name: str, text: str) -> InputFile:
    md5 = base64.b64encode(hashlib.md5(text.encode()).digest()).decode()
    return InputFile(path=Path("/specs") / name, md5=md5, size=len(text))


def plan_of(*inputs: InputFile, script: str = "print('task')") -> Plan:
    facts = BatchInputs(start_files=(file("app/task.py", script),), inputs=inputs)
    changes = diff_desired(desired_batch(SPEC, facts), ObservedBatch(), workspace="ws")
    return Plan(workspace="ws", changes=tuple(changes))


def test_an_input_whose_content_changed_is_named() -> None:
    saved = plan_of(file("in/a.txt", "a a b"), file("in/b.txt", "b")).model_dump(mode="json")
    fresh = plan_of(file("in/a.txt", "a a b"), file("in/b.txt", "b b"))
    assert changed_files(saved, fresh) == ["/specs/in/b.txt (content changed)"]


def test_a_start_task_file_counts_as_well() -> None:
    saved = plan_of(file("in/a.txt", "a")).model_dump(mode="json")
    fresh = plan_of(file("in/a.txt", "a"), script="print('v2')")
    assert changed_files(saved, fresh) == ["/specs/app/task.py (content changed)"]


def test_files_the_glob_now_matches_or_no_longer_matches_are_named() -> None:
    saved = plan_of(file("in/a.txt", "a"), file("in/b.txt", "b")).model_dump(mode="json")
    fresh = plan_of(file("in/a.txt", "a"), file("in/c.txt", "c"))
    assert changed_files(saved, fresh) == ["/specs/in/c.txt (new)", "/specs/in/b.txt (gone)"]


def test_the_same_files_name_nothing() -> None:
    saved = plan_of(file("in/a.txt", "a")).model_dump(mode="json")
    assert changed_files(saved, plan_of(file("in/a.txt", "a"))) == []
