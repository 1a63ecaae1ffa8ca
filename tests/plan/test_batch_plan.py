"""Data-driven cases for the Batch planner: ``cases/batch/<case>.yaml`` holds a spec, the
local files it names as the fact step would have read them (``inputs``: the start task's
files and the files ``forEachFile`` matched, each with its content, or a sweep's rows
file, ``rows``), the observed live state and the expected changes, in order
(``rerun_failed: true`` plans as ``apply --rerun-failed``). Nothing is read from disk: the
planner is pure."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from runner.errors import SpecError
from runner.plan.action import Action
from runner.plan.batch import (
    ObservedBatch,
    ObservedBlob,
    ObservedJob,
    ObservedPool,
    ObservedTask,
    diff_desired,
)
from runner.plan.batch_desired import DesiredBatch, desired_batch
from runner.plan.batch_inputs import BatchInputs, InputFile
from runner.plan.model import Change
from runner.plan.ownership import Ownership
from runner.spec.models import BatchJob
from runner.spec.sweeps import parse_rows

CASES = sorted((Path(__file__).parent / "cases" / "batch").glob("*.yaml"))
WORKSPACE = "ws"
SPEC_DIR = PurePosixPath("/specs")  # where the case's spec file would be; never read


def md5_of(text: str) -> str:
    return base64.b64encode(hashlib.md5(text.encode()).digest()).decode()


def inputs_from(data: dict[str, dict[str, str]]) -> BatchInputs:
    def files(role: str) -> tuple[InputFile, ...]:
        return tuple(
            InputFile(path=Path(SPEC_DIR / name), md5=md5_of(text), size=len(text.encode()))
            for name, text in (data.get(role) or {}).items()
        )

    rows = data.get("rows") or {}
    if not rows:
        return BatchInputs(start_files=files("startTask"), inputs=files("forEachFile"))
    # A sweep's rows file, parsed as engine/inputs.py parses it.
    ((name, text),) = rows.items()
    rows_file = files("rows")[0]
    return BatchInputs(
        start_files=files("startTask"),
        rows_file=rows_file,
        rows=tuple(parse_rows(text, name)),
    )


def plan_case(
    spec: BatchJob, inputs: BatchInputs, observed: ObservedBatch, rerun_failed: bool = False
) -> list[Change]:
    desired = desired_batch(spec, inputs)
    return diff_desired(desired, observed, workspace=WORKSPACE, rerun_failed=rerun_failed)


def owner(value: str | None, spec: str) -> Ownership:
    """``ours`` (this spec and workspace; ``ours-stale-hash`` with a runner-hash of another
    definition), ``other-spec``, ``other-workspace`` or unmanaged."""
    return {
        "ours": Ownership(managed_by="runner", spec=spec, workspace=WORKSPACE),
        "ours-stale-hash": Ownership(
            managed_by="runner", spec=spec, workspace=WORKSPACE, hash="0" * 64
        ),
        "other-spec": Ownership(managed_by="runner", spec="someone-else", workspace=WORKSPACE),
        "other-workspace": Ownership(managed_by="runner", spec=spec, workspace="elsewhere"),
    }.get(value or "", Ownership())


def observed_task(data: dict[str, Any], desired: DesiredBatch) -> ObservedTask:
    """A task as listed; ``ran_on`` says what it was added with: ``this`` (the desired
    task's command and inputs), ``other-inputs`` (the same command on other content) or
    a command line; absent, the task carries no record."""
    fields = {k: v for k, v in data.items() if k != "ran_on"}
    ran_on = data.get("ran_on")
    if ran_on is None:
        return ObservedTask(**fields)
    task = next(t for t in desired.tasks if t.id == data["id"])
    if ran_on == "this":
        return ObservedTask(**fields, identity=task.identity, command_line=task.command_line)
    if ran_on == "other-inputs":
        return ObservedTask(**fields, identity="0" * 64, command_line=task.command_line)
    return ObservedTask(**fields, identity="1" * 64, command_line=ran_on)


def observed_from(data: dict[str, Any], spec: str, desired: DesiredBatch | None) -> ObservedBatch:
    pool = data.get("pool")
    job = data.get("job")
    return ObservedBatch(
        pool=None
        if pool is None
        else ObservedPool(
            **{k: v for k, v in pool.items() if k != "owner"}, owner=owner(pool.get("owner"), spec)
        ),
        job=None
        if job is None
        else ObservedJob(
            id=job["id"],
            state=job.get("state", "active"),
            pool_id=job["pool_id"],
            owner=owner(job.get("owner"), spec),
            uses_task_dependencies=job.get("uses_task_dependencies", False),
            environment=job.get("environment") or {},
        ),
        tasks={t["id"]: observed_task(t, desired) for t in data.get("tasks", []) if desired},
        containers={c: owner(o, spec) for c, o in (data.get("containers") or {}).items()},
        blobs={
            (b["container"], b["name"]): ObservedBlob(
                container=b["container"],
                name=b["name"],
                md5=md5_of(b["content"]) if "content" in b else b.get("md5"),
                owner=owner(b.get("owner"), spec),
            )
            for b in data.get("blobs", [])
        },
    )


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_batch_plan_case(case: Path) -> None:
    data = yaml.safe_load(case.read_text())
    spec = BatchJob.model_validate(data["spec"])
    inputs = inputs_from(data["inputs"])
    try:
        desired: DesiredBatch | None = desired_batch(spec, inputs)
    except SpecError:
        desired = None
    observed = observed_from(data.get("observed") or {}, spec.name, desired)

    if "error" in data:
        with pytest.raises(SpecError) as info:
            plan_case(spec, inputs, observed)
        assert data["error"] in str(info.value.diagnostics[0].summary)
        return

    changes = plan_case(spec, inputs, observed, rerun_failed=data.get("rerun_failed", False))
    got = [f"{c.action.value} {c.address}" for c in changes]
    assert got == data["expected"]
    for addr, fields in (data.get("details") or {}).items():
        change = next(c for c in changes if str(c.address) == addr)
        if "depends_on" in fields:
            assert [str(d) for d in change.depends_on] == fields["depends_on"]
        if "replace_paths" in fields:
            assert list(change.replace_paths) == fields["replace_paths"]
        if "reason" in fields:
            assert fields["reason"] in change.reason
        for name in ("kind", "waits_for_delete", "owned"):
            if name in fields:
                assert getattr(change, name) == fields[name], name
        if "after" in fields:
            assert change.after is not None
            for key, value in fields["after"].items():
                assert change.after[key] == value, key


def test_every_case_names_only_known_actions() -> None:
    known = {a.value for a in Action}
    for case in CASES:
        for line in yaml.safe_load(case.read_text()).get("expected", []):
            assert line.split(" ", 1)[0] in known, (case.name, line)
