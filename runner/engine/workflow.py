"""Running a ``Workflow``: its steps on the one executor, in ``needs`` order, independent
ones at once; a failed step stops the steps that need it and no others.

Each step is looked at when its turn comes, from live state: its inputs (local files,
uploaded to the workflow's container when changed, or what an earlier step handed on),
then its record. A container group step whose definition and inputs are the recorded
ones, its outputs still there, is skipped; a Batch step runs only the tasks its results
record does not hold. Data stays in the cloud: a Batch task gets an earlier step's
outputs as resource files by SAS, a container group gets read and write SAS URLs as
secure environment (``RUNNER_IN_<NAME>``, ``..._URL``, ``..._SAS``, ``RUNNER_OUT_URL``,
``RUNNER_OUT_SAS``). Only what a step's ``collect`` asks for comes down.

``plan_workflow`` looks at the steps the same way without running anything: a step
after one that runs is planned once that one has run.
"""

from __future__ import annotations

import dataclasses
import glob
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path
from typing import Any

from runner.backends import blob
from runner.backends.batch_metadata import blob_metadata
from runner.backends.blob_store import BlobStore, blob_store
from runner.backends.target import Target
from runner.engine.events import Emit, StepProgress
from runner.engine.executor import Step, StepOutcome, fold, run_steps
from runner.engine.inputs import content_md5, read_inputs
from runner.engine.result import RunResult, StatusRow
from runner.engine.retry import call_with_retry
from runner.errors import RunnerError
from runner.plan.action import Action
from runner.plan.batch_desired import DesiredBatch, LocalFile, canonical_hash, desired_batch
from runner.plan.batch_inputs import BatchInputs, BlobLocation, InputFile
from runner.plan.model import Address, Change
from runner.plan.workflow import (
    Handed,
    StepRecord,
    declared,
    input_digest,
    inputs_folder,
    outputs_folder,
    record_blob,
    unchanged,
    written,
)
from runner.spec.loaded import LoadedSpec, LoadedStep
from runner.spec.models import BatchJob, ContainerGroup, Workflow

GROUP_RUN_TIMEOUT = timedelta(hours=1)  # what a group step's SAS URLs outlive
Value = dict[str, list[Handed]]  # what a step hands on: output name -> files


def step_address(workflow: str, step: str) -> Address:
    return Address.model_validate(f"Workflow/{workflow}/step/{step}")


@dataclass(frozen=True)
class StepPlan:
    """What the plan says of one step: ``action`` NOOP (skipped as unchanged), CREATE
    (runs), UPDATE (resumes: some tasks done) or START (decided once what it needs ran)."""

    step: str
    action: Action
    reason: str
    value: Value | None = None  # known when it is skipped
    changes: tuple[Change, ...] = ()  # a Batch step's own plan, when known


# What the engine's entry points lend the workflow: the plan and the run of one
# container group spec, and of one BatchJob spec, as ``api`` makes them.
# Each takes the emit of the step it works for. A group's run is also given what to do
# before the group is sent (not when it joins a run an earlier apply started).
RunGroup = Callable[[LoadedSpec, Emit, Callable[[], None]], RunResult]
PlanBatch = Callable[[LoadedSpec, DesiredBatch, bool], list[Change]]
RunBatch = Callable[[LoadedSpec, list[Change], DesiredBatch, Emit], RunResult]


@dataclass
class WorkflowRun:
    loaded: LoadedSpec
    target: Target
    emit: Emit
    workspace: str
    rerun: frozenset[str]
    run_group: RunGroup
    plan_batch: PlanBatch
    run_batch: RunBatch
    cwd: Path

    @property
    def workflow(self) -> Workflow:
        assert isinstance(self.loaded.spec, Workflow)
        return self.loaded.spec

    @property
    def container(self) -> str:
        return self.workflow.container

    def store(self) -> BlobStore:
        return blob_store(self.target, self.workflow.storage.account)

    def address(self, step: str) -> str:
        return str(step_address(self.workflow.name, step))

    def retry(self, at: str, fn: Callable[[], Any]) -> Any:
        return call_with_retry(fn, address=at, what=at, emit=self.emit)

    def listing(self) -> dict[str, Any]:
        at = f"Workflow/{self.workflow.name}"
        return dict(self.retry(at, lambda: self.store().read_outputs(self.container))[0])


# --- inputs -------------------------------------------------------------------------


def _local_inputs(run: WorkflowRun, step: LoadedStep, name: str, pattern: str) -> list[Handed]:
    """The files a ``files:`` input names, as they will be once uploaded: the blob's
    Content-MD5 is the local file's."""
    base = run.loaded.base_dir
    paths = sorted(p for p in glob.glob(pattern, root_dir=base, recursive=True))
    files = [(base / p) for p in paths if (base / p).is_file()]
    if not files:
        raise RunnerError(f"step {step.name}: input {name} ({pattern!r}) matched no files")
    out = []
    seen: dict[str, Path] = {}
    for path in files:
        if path.name in seen:
            raise RunnerError(
                f"step {step.name}: input {name} has two files named {path.name!r}: "
                f"{seen[path.name]} and {path}"
            )
        seen[path.name] = path
        md5, size = content_md5(path)
        rel = path.relative_to(base).as_posix() if path.is_relative_to(base) else path.name
        blob_name = inputs_folder(step.name, name) + Path(rel).name
        out.append(Handed(Path(rel).name, run.container, blob_name, md5, size=size))
    return out


def _inputs(
    run: WorkflowRun, step: LoadedStep, values: Mapping[str, Value | None]
) -> dict[str, list[Handed]] | None:
    """Each input's files; None while an input comes from a step not run yet."""
    out: dict[str, list[Handed]] = {}
    for name, source in step.inputs.items():
        if source.files is not None:
            out[name] = _local_inputs(run, step, name, source.files)
            continue
        value = values.get(source.step or "")
        if value is None:
            return None
        out[name] = value.get(source.output or "", [])
    return out


def _upload_local(run: WorkflowRun, step: LoadedStep, inputs: Mapping[str, list[Handed]]) -> int:
    """Upload the ``files:`` inputs Blob lacks or holds in another version."""
    local = {n: files for n, files in inputs.items() if step.inputs[n].files is not None}
    if not local:
        return 0
    listing = run.listing()
    store = run.store()
    meta = blob_metadata(run.workflow.name, run.workspace)
    base = run.loaded.base_dir
    sent = 0
    for name, files in local.items():
        pattern = step.inputs[name].files or ""
        paths = {Path(p).name: base / p for p in glob.glob(pattern, root_dir=base, recursive=True)}
        for f in files:
            seen = listing.get(f.blob)
            if seen is not None and seen.md5 == f.md5:
                continue
            upload = LocalFile(paths[f.name], f.container, f.blob, f.md5 or "", f.size)
            run.retry(run.address(step.name), partial(store.upload, upload, meta))
            sent += 1
    return sent


# --- container group steps ----------------------------------------------------------


def _group_definition(step: LoadedStep, group: ContainerGroup) -> str:
    return canonical_hash(
        {"group": group.model_dump(mode="json", by_alias=True), "outputs": step.outputs}
    )


def _read_record(run: WorkflowRun, step: str) -> StepRecord | None:
    data = run.retry(
        run.address(step), lambda: run.store().read_bytes(run.container, record_blob(step))
    )
    return None if data is None else StepRecord.from_json(data)


def _group_look(
    run: WorkflowRun, step: LoadedStep, inputs: Mapping[str, list[Handed]]
) -> tuple[str, dict[str, str], StepRecord | None, str | None]:
    assert isinstance(step.spec, ContainerGroup)
    definition = _group_definition(step, step.spec)
    digest = input_digest(inputs)
    record = _read_record(run, step.name)
    why = None
    if step.name not in run.rerun:
        why = unchanged(record, definition, digest, run.listing())
    return definition, digest, record, why


def _with_handoffs(
    run: WorkflowRun, step: LoadedStep, group: ContainerGroup, inputs: Mapping[str, list[Handed]]
) -> ContainerGroup:
    """The group with its inputs' and output's URLs in every container's environment;
    the SAS tokens are secure values (never shown, fingerprinted in tags)."""
    signer = run.store().signer(_group_expiry(datetime.now(UTC)))
    env: dict[str, str] = {}
    secure: dict[str, str] = {}
    for name, files in inputs.items():
        key = f"RUNNER_IN_{name.upper()}"
        container = files[0].container if files else run.container
        folder = _common_folder([f.blob for f in files])
        names = [f.blob[len(folder) :] for f in files]
        bad = [n for n in names if any(ch.isspace() for ch in n)]
        if bad:
            raise RunnerError(f"step {step.name}: input {name} has a name with spaces: {bad[0]!r}")
        env[key] = " ".join(names)
        env[f"{key}_URL"] = signer.container_url(container) + (
            f"/{folder.rstrip('/')}" * bool(folder)
        )
        secure[f"{key}_SAS"] = signer.read_container(container).partition("?")[2]
    env["RUNNER_OUT_URL"] = (
        f"{signer.container_url(run.container)}/{outputs_folder(step.name)}".rstrip("/")
    )
    secure["RUNNER_OUT_SAS"] = signer.write_container(run.container).partition("?")[2]
    containers = [
        c.model_copy(update={"env": {**c.env, **env}, "secure_env": {**c.secure_env, **secure}})
        for c in group.containers
    ]
    return group.model_copy(update={"containers": containers})


def _group_expiry(now: datetime) -> datetime:
    """When a group step's SAS URLs expire: the same for every apply within the hour, so
    that one resumed after a kill sends the same definition (an account key signs the
    same URL again) and joins the run already going rather than starting another."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    return hour + GROUP_RUN_TIMEOUT + timedelta(hours=1)


def _common_folder(blobs: Sequence[str]) -> str:
    if not blobs:
        return ""
    parts = [b.split("/")[:-1] for b in blobs]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "".join(f"{p}/" for p in common)


def _group_step(run: WorkflowRun, step: LoadedStep, inputs: dict[str, list[Handed]]) -> StepOutcome:
    assert isinstance(step.spec, ContainerGroup)
    at = run.address(step.name)
    definition, digest, _, why = _group_look(run, step, inputs)
    store = run.store()
    if why is not None:
        record = _read_record(run, step.name)
        assert record is not None
        return _done(run, step, list(record.outputs), why, skipped=True)
    sent = _upload_local(run, step, inputs)

    def clear() -> None:
        # What an earlier run of the step wrote is not this run's output.
        folder = outputs_folder(step.name)
        for name in run.retry(at, lambda: store.list_names(run.container, folder)):
            run.retry(at, partial(store.delete_blob, run.container, name))

    group = _with_handoffs(run, step, step.spec, inputs)
    run.emit(StepProgress(address=at, message=f"container group {group.name}"))
    result = run.run_group(dataclasses.replace(step.loaded, spec=group), run.emit, clear)
    if not result.ok:
        return StepOutcome(
            ok=False,
            status="failed",
            message="; ".join(result.errors) or "the container group failed",
            errors=result.errors,
            removed=result.removed,
            left=result.left,
        )
    files = written(run.container, step.name, run.listing())
    now = datetime.now(UTC).isoformat(timespec="seconds")
    record = StepRecord(definition=definition, inputs=digest, outputs=tuple(files), finished=now)
    meta = blob_metadata(run.workflow.name, run.workspace)
    payload = record.to_json().encode()
    run.retry(at, partial(store.upload_bytes, run.container, record_blob(step.name), payload, meta))
    out = _done(run, step, files, "ran", skipped=False)
    out.counts["uploaded"] = sent
    out.removed, out.left = result.removed, result.left
    return out


# --- Batch steps --------------------------------------------------------------------


def _batch_desired(
    run: WorkflowRun, step: LoadedStep, inputs: Mapping[str, list[Handed]]
) -> tuple[LoadedSpec, DesiredBatch]:
    """The step's BatchJob with its tasks made from what its inputs hand it (none: from
    its own local files). A workflow collects by itself: the job collects nothing."""
    spec = step.spec
    assert isinstance(spec, BatchJob)
    spec = spec.model_copy(update={"collect": None})
    loaded = dataclasses.replace(step.loaded, spec=spec)
    if not step.inputs:
        return loaded, desired_batch(spec, read_inputs(spec, step.base_dir))
    if spec.storage.account != run.workflow.storage.account:
        raise RunnerError(
            f"step {step.name}: its inputs are in storage account "
            f"{run.workflow.storage.account!r}, its job's in {spec.storage.account!r}"
        )
    bare = spec.model_copy(update={"tasks": spec.tasks.model_copy(update={"for_each_file": None})})
    start = read_inputs(bare, step.base_dir)
    pattern = spec.tasks.for_each_file or "*"
    files = [f for fs in inputs.values() for f in fs if fnmatchcase(f.name, pattern)]
    if not files and spec.tasks.for_each is None:
        raise RunnerError(f"step {step.name}: no input matches tasks.forEachFile {pattern!r}")
    cloud = tuple(
        InputFile(
            path=Path(f.name),
            md5=f.version,
            size=f.size,
            location=BlobLocation(f.container, f.blob),
        )
        for f in sorted(files, key=lambda f: f.name)
    )
    return loaded, desired_batch(spec, BatchInputs(start_files=start.start_files, inputs=cloud))


def _batch_plan(
    run: WorkflowRun, step: LoadedStep, inputs: Mapping[str, list[Handed]]
) -> tuple[LoadedSpec, DesiredBatch, list[Change]]:
    loaded, desired = _batch_desired(run, step, inputs)
    again = step.name in run.rerun or desired.spec.name in run.rerun
    return loaded, desired, run.plan_batch(loaded, desired, again)


def _batch_summary(desired: DesiredBatch, changes: Sequence[Change]) -> tuple[Action, str]:
    tasks = [c for c in changes if c.address.part is not None and c.address.part.kind == "task"]
    done = [c for c in tasks if c.action is Action.NOOP]
    total = len(desired.tasks)
    if total and len(done) == total:
        return Action.NOOP, f"unchanged: all {total} tasks done before (results record)"
    if done:
        return Action.UPDATE, f"resumes: {len(done)} of {total} tasks done"
    return Action.CREATE, f"runs {total} tasks"


def _batch_step(run: WorkflowRun, step: LoadedStep, inputs: dict[str, list[Handed]]) -> StepOutcome:
    loaded, desired, changes = _batch_plan(run, step, inputs)
    action, why = _batch_summary(desired, changes)
    run.emit(StepProgress(address=run.address(step.name), message=why))
    result = run.run_batch(loaded, changes, desired, run.emit)
    if not result.ok:
        return StepOutcome(
            ok=False,
            status="failed",
            message="; ".join(result.errors[:3]) or "the Batch job failed",
            errors=result.errors,
            removed=result.removed,
            left=result.left,
            counts=dict(result.counts),
        )
    container = desired.containers["output"]
    _, record = run.retry(run.address(step.name), lambda: run.store().read_outputs(container))
    files = []
    for task in desired.tasks:
        recorded = record.tasks.get(task.id) if record is not None else None
        for o in recorded.outputs if recorded is not None else ():
            name = o.blob.partition("/")[2]
            files.append(Handed(name, container, o.blob, o.md5, o.etag))
    out = _done(run, step, files, why, skipped=action is Action.NOOP)
    for k, v in result.counts.items():
        out.counts[k] = out.counts.get(k, 0) + v
    out.removed, out.left = result.removed, result.left
    return out


# --- both ---------------------------------------------------------------------------


def _done(
    run: WorkflowRun, step: LoadedStep, files: list[Handed], why: str, *, skipped: bool
) -> StepOutcome:
    """A step that ran or was skipped: what it hands on, and its collect."""
    out = StepOutcome(
        message=why,
        value=declared(step.outputs, files),
        counts={"steps_skipped" if skipped else "steps_run": 1},
        detail={"skipped": skipped},
    )
    if step.collect is not None:
        out.outputs, out.counts["downloaded"] = _collect(run, step, files)
    return out


def _collect(run: WorkflowRun, step: LoadedStep, files: list[Handed]) -> tuple[list[str], int]:
    assert step.collect is not None
    root = Path(step.collect.dir)
    globs = step.collect.outputs or list(step.outputs.values())
    store = run.store()
    written_: list[str] = []
    fetched = 0
    for f in files:
        if not any(fnmatchcase(f.name, g) for g in globs):
            continue
        dest = blob.safe_destination(root, f.name)
        written_.append(str(dest))
        if f.md5 is not None and dest.is_file() and content_md5(dest)[0] == f.md5:
            continue
        run.retry(run.address(step.name), partial(store.download, f.container, f.blob, dest))
        fetched += 1
    return written_, fetched


def _run_step(run: WorkflowRun, step: LoadedStep, deps: Mapping[str, StepOutcome]) -> StepOutcome:
    """The step's work, each event it causes naming it (``workflow_step``)."""
    emit = run.emit

    def named(event: Any) -> None:
        emit(dataclasses.replace(event, workflow_step=step.name))

    run = dataclasses.replace(run, emit=named)
    values = {name: o.value for name, o in deps.items()}
    try:
        inputs = _inputs(run, step, values)
        assert inputs is not None  # what it needs has run
        if isinstance(step.spec, ContainerGroup):
            return _group_step(run, step, inputs)
        return _batch_step(run, step, inputs)
    except RunnerError as exc:
        return StepOutcome(
            ok=False, status="failed", message=str(exc), errors=[f"{step.name}: {exc}"]
        )


def run_workflow(run: WorkflowRun, cancel: threading.Event) -> RunResult:
    store = run.store()
    meta = blob_metadata(run.workflow.name, run.workspace)
    at = f"Workflow/{run.workflow.name}"
    run.retry(at, partial(store.create_container, run.container, meta))
    steps = [
        Step(
            key=s.name,
            address=run.address(s.name),
            label="step",
            run=partial(_run_step, run, s),
            depends_on=s.needs,
        )
        for s in run.loaded.steps
    ]
    outcomes = run_steps(steps, emit=run.emit, cancel=cancel, workers=max(1, len(steps)))
    return fold(outcomes, skips_are_errors=True)


def container_rows(loaded: LoadedSpec, target: Target, workspace: str) -> list[StatusRow]:
    """The workflow's container, as ``runner status`` and ``destroy`` show it."""
    workflow = loaded.spec
    assert isinstance(workflow, Workflow)
    owned = dict(blob_store(target, workflow.storage.account).list_owned_containers(workspace))
    state = "exists" if owned.get(workflow.container) == workflow.name else "absent"
    at = f"Workflow/{workflow.name}/container/{workflow.container}"
    return [StatusRow(address=at, kind="BlobContainer", state=state, detail={})]


def destroy_container(loaded: LoadedSpec, target: Target, emit: Emit, workspace: str) -> RunResult:
    """The workflow's container (hand-offs and records), if this workspace made it."""
    workflow = loaded.spec
    assert isinstance(workflow, Workflow)
    store = blob_store(target, workflow.storage.account)
    at = f"Workflow/{workflow.name}/container/{workflow.container}"
    owned = dict(
        call_with_retry(
            partial(store.list_owned_containers, workspace), address=at, what=at, emit=emit
        )
    )
    if owned.get(workflow.container) != workflow.name:
        return RunResult(ok=True, counts={"deleted": 0})
    call_with_retry(
        partial(store.delete_container, workflow.container), address=at, what=at, emit=emit
    )
    return RunResult(ok=True, counts={"deleted": 1}, removed=[at])


# --- plan ---------------------------------------------------------------------------


def plan_workflow(run: WorkflowRun) -> list[Change]:
    """One change per step, in step order, and a Batch step's own changes when its
    inputs are known now; nothing is sent."""
    plans: dict[str, StepPlan] = {}
    changes: list[Change] = []
    for step in run.loaded.steps:
        plan = _plan_step(run, step, plans)
        plans[step.name] = plan
        changes.append(
            Change(
                address=step_address(run.workflow.name, step.name),
                action=plan.action,
                reason=plan.reason,
                after={"needs": list(step.needs), "kind": _kind(step)},
            )
        )
        changes += plan.changes
    return changes


def _kind(step: LoadedStep) -> str:
    return "ContainerGroup" if isinstance(step.spec, ContainerGroup) else "BatchJob"


def _plan_step(run: WorkflowRun, step: LoadedStep, plans: Mapping[str, StepPlan]) -> StepPlan:
    waiting = [n for n in step.needs if plans[n].action is not Action.NOOP]
    if waiting:
        names = ", ".join(waiting)
        return StepPlan(
            step.name,
            Action.START,
            f"decided once {names} has run: runs if what it hands on changed",
        )
    inputs = _inputs(run, step, {n: p.value for n, p in plans.items()})
    assert inputs is not None
    if isinstance(step.spec, ContainerGroup):
        _, _, record, why = _group_look(run, step, inputs)
        if why is not None and record is not None:
            handed = declared(step.outputs, list(record.outputs))
            return StepPlan(step.name, Action.NOOP, f"skipped: {why}", value=handed)
        reason = (
            "runs: --rerun asks so"
            if step.name in run.rerun
            else (
                "runs: not run before"
                if record is None
                else "runs: its definition or inputs changed, or an output is gone"
            )
        )
        return StepPlan(step.name, Action.CREATE, reason)
    _, desired, changes = _batch_plan(run, step, inputs)
    action, why = _batch_summary(desired, changes)
    value: Value | None = None
    if action is Action.NOOP:
        value = _recorded_value(run, step, desired)
    return StepPlan(
        step.name,
        action,
        why if action is not Action.NOOP else f"skipped: {why}",
        value,
        tuple(changes),
    )


def _recorded_value(run: WorkflowRun, step: LoadedStep, desired: DesiredBatch) -> Value:
    container = desired.containers["output"]
    _, record = run.retry(run.address(step.name), lambda: run.store().read_outputs(container))
    files = [
        Handed(o.blob.partition("/")[2], container, o.blob, o.md5, o.etag)
        for t in desired.tasks
        for o in (record.tasks[t.id].outputs if record and t.id in record.tasks else ())
    ]
    return declared(step.outputs, files)


__all__ = ["WorkflowRun", "plan_workflow", "run_workflow"]
