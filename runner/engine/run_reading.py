"""The latest run of some specs, for ``runner report``: the records their last apply left
(``run_record.py``), with the tasks of a Batch job that run left in place read again from
Batch, so the page shows them as they are now (a job kept with ``teardown.job: never``,
or left running by Ctrl-C). A job with no record (its apply was killed before it could
write one) is read from Batch alone, when this workspace made it from this spec.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from runner.engine.run_model import JobTimeline, RunRecord, combined
from runner.engine.run_record import kept, task_spans
from runner.errors import RunnerError
from runner.plan.cost import spec_address
from runner.plan.model import Address
from runner.spec.models import BatchJob, Workflow

if TYPE_CHECKING:
    from runner.backends.target import Target
    from runner.spec.loader import LoadedSpec

LIVE_NOTE = "read again from Batch: the run left the job in place"
NO_RECORD_NOTE = "read from Batch: no run of this spec is recorded in this workspace"


class NoRunRecorded(RunnerError):
    pass


def latest_run(
    specs: Sequence[LoadedSpec],
    workspace: str,
    target: Callable[[], Target],
    *,
    root: Path | None = None,
) -> RunRecord:
    """One record of the specs' latest runs; ``target`` is called only when a job may
    still be there to read."""
    records = []
    for loaded in specs:
        spec = loaded.spec
        if isinstance(spec, Workflow):
            continue  # its steps' runs are recorded as theirs
        address = spec_address(spec)
        record = kept(workspace, address, root)
        if isinstance(spec, BatchJob) and (record is None or _job_left(record, spec)):
            record = _with_live_tasks(record, spec, target(), workspace)
        if record is not None:
            records.append(record)
    if not records:
        names = ", ".join(spec_address(s.spec) for s in specs if not isinstance(s.spec, Workflow))
        raise NoRunRecorded(
            f"no run of {names} is recorded in workspace {workspace}: apply it first "
            "(`runner apply SPEC`), from this folder or with the same --workspace"
        )
    return combined(records)


def _job_left(record: RunRecord, spec: BatchJob) -> bool:
    job = str(Address.batch(spec.name, "job", spec.job.id))
    return any(a == job or a.startswith(f"{job} ") for a in record.left)


def _with_live_tasks(
    record: RunRecord | None, spec: BatchJob, target: Target, workspace: str
) -> RunRecord | None:
    from runner.backends.batch import batch_client
    from runner.backends.batch_timeline import job_owner, read_task_runs

    client = batch_client(spec, target)
    owner = job_owner(client, spec.job.id)
    runs = read_task_runs(client, spec.job.id) if owner else None
    if owner is None or not owner.owned_by(workspace, spec.name) or runs is None:
        return record  # gone, or another's: what the record says is all there is
    address = str(Address.batch(spec.name))
    now = time.time()
    tasks = task_spans(runs)
    if record is None:
        timeline = JobTimeline(
            spec=address,
            job=spec.job.id,
            pool=spec.pool.id,
            tasks=tasks,
            read_at=now,
            note=NO_RECORD_NOTE,
        )
        starts = [s for t in tasks for s in (t.created, t.started) if s is not None]
        return RunRecord(
            workspace=workspace,
            specs=(address,),
            started=min(starts, default=now),
            finished=None,
            ok=all(t.status == "succeeded" for t in tasks),
            jobs=(timeline,),
        )
    jobs = [j for j in record.jobs if j.spec != address]
    jobs.append(
        JobTimeline(
            spec=address,
            job=spec.job.id,
            pool=spec.pool.id,
            tasks=tasks,
            read_at=now,
            note=LIVE_NOTE,
        )
    )
    return record.model_copy(update={"jobs": tuple(jobs)})
