"""Recorded task payloads (the local target's and Azure's shape) and the ``TaskRun``
each must become: when and on which node the last attempt ran, its exit code, result,
retries, requeues and failure. Expected values are written with ``--update-golden`` (or
``RUNNER_UPDATE_GOLDEN=1``) and reviewed as diffs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from runner.backends.batch_timeline import TIMELINE_SELECT, TaskRun, task_run_from_payload

PAYLOADS = sorted((Path(__file__).parent / "payloads" / "batch_task_runs").glob("*.json"))


def _plain(run: TaskRun) -> dict:
    data = dataclasses.asdict(run)
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}


@pytest.mark.parametrize("path", PAYLOADS, ids=[p.stem for p in PAYLOADS])
def test_payload_becomes_a_task_run(path: Path, update_golden: bool) -> None:
    case = json.loads(path.read_text())
    got = _plain(task_run_from_payload(case["payload"]))
    if update_golden:
        case["expected"] = got
        path.write_text(json.dumps(case, indent=2) + "\n")
    assert "expected" in case, f"{path.name} has no expected value: run with --update-golden"
    assert got == case["expected"]


def test_the_read_selects_no_command_line_or_environment() -> None:
    assert not {"commandLine", "environmentSettings", "resourceFiles"} & set(TIMELINE_SELECT)
