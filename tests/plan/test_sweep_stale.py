"""A sweep's rows file is one of the plan's local inputs: a saved plan made from other rows
is stale, and ``apply --plan`` names the file."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from runner.plan.batch import ObservedBatch, diff_desired
from runner.plan.batch_desired import desired_batch
from runner.plan.batch_inputs import BatchInputs, InputFile
from runner.plan.model import Plan
from runner.plan.stale import changed_files, local_files
from runner.spec.models import BatchJob
from runner.spec.sweeps import parse_rows

SPEC = BatchJob.model_validate(
    {
        "kind": "BatchJob",
        "name": "rows",
        "pool": {"id": "rows-pool"},
        "job": {"id": "rows-job"},
        "tasks": {
            "forEach": {"rows": "samples.csv"},
            "id": "s-{{ row.sample }}",
            "command": "echo {{ row.sample }}",
        },
        "collect": {"dir": "out"},
    }
)
ROWS = Path("/specs/samples.csv")


def plan_of(text: str) -> Plan:
    md5 = base64.b64encode(hashlib.md5(text.encode()).digest()).decode()
    facts = BatchInputs(
        rows_file=InputFile(path=ROWS, md5=md5, size=len(text)),
        rows=tuple(parse_rows(text, "samples.csv")),
    )
    changes = diff_desired(desired_batch(SPEC, facts), ObservedBatch(), workspace="ws")
    return Plan(workspace="ws", changes=tuple(changes))


def test_the_plan_names_the_rows_file_with_its_content_md5() -> None:
    text = "sample\na\n"
    md5 = base64.b64encode(hashlib.md5(text.encode()).digest()).decode()
    assert local_files(plan_of(text).model_dump(mode="json")) == {str(ROWS): md5}


def test_a_changed_rows_file_is_named() -> None:
    saved = plan_of("sample\na\n").model_dump(mode="json")
    assert changed_files(saved, plan_of("sample\na\nb\n")) == [f"{ROWS} (content changed)"]


def test_unchanged_rows_leave_the_plan_as_it_was() -> None:
    saved = plan_of("sample\na\n").model_dump(mode="json")
    fresh = plan_of("sample\na\n")
    assert fresh.model_dump(mode="json") == saved
    assert changed_files(saved, fresh) == []
