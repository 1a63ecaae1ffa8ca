"""The results record in a run (``plan/results_record.py``): collect of the tasks the plan
found done, from the output container into the collect folder when the folder lacks
them, and the record written once this run's outputs are in.

The collect folder is checked by content: a file already there with the recorded
Content-MD5 is not downloaded again, so a re-apply of a done job on the same machine
reads nothing but the record and one listing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from runner.backends import blob
from runner.backends.batch_metadata import blob_metadata
from runner.engine.batch_context import BatchContext
from runner.engine.executor import StepOutcome
from runner.engine.inputs import content_md5
from runner.plan.batch_desired import DesiredBatch, DesiredTask
from runner.plan.batch_observed import ObservedTask
from runner.plan.results_record import RecordedOutput, done_tasks, record_after

STD_FILES = ("stdout.txt", "stderr.txt")


def without_done(desired: DesiredBatch, done: set[str]) -> DesiredBatch:
    """What this run makes of the job: the tasks that are not done. A task that depends
    on a done one keeps its identity; only what is sent to Batch leaves that one out
    (``add_tasks``)."""
    if not done:
        return desired
    return dataclasses.replace(desired, tasks=tuple(t for t in desired.tasks if t.id not in done))


def _collected(task: DesiredTask, name: str) -> bool:
    """Whether collect brings ``<task>/<name>`` down: outputs, not what is handed on."""
    return name not in STD_FILES and name not in task.handed_on


def collect_recorded(ctx: BatchContext, full: DesiredBatch, done: set[str]) -> StepOutcome:
    """Fetch the done tasks' outputs the collect folder lacks or holds in another
    version. One read of the record names them; nothing else is listed."""
    spec = ctx.spec
    root = Path(spec.collect.dir) if spec.collect else None
    at = ctx.address("collect", str(root or "-"))
    # Their results are this run's as much as those of the tasks it ran.
    out = StepOutcome(counts={"downloaded": 0, "succeeded": len(done)})
    if root is None or not done:
        return out
    container = full.containers["output"]
    _, record = ctx.retry(at, lambda: ctx.blobs.read_outputs(container))
    tasks = {t.id: t for t in full.tasks if t.id in done}
    for task_id, task in tasks.items():
        recorded = record.tasks.get(task_id) if record is not None else None
        if recorded is None or recorded.identity != task.identity:
            out.errors.append(f"task {task_id}: its results record changed since the plan")
            continue
        for o in recorded.outputs:
            name = o.blob.partition("/")[2]
            if not _collected(task, name):
                continue
            try:
                dest = blob.safe_destination(root, name)
            except Exception as exc:
                out.errors.append(str(exc))
                continue
            out.outputs.append(str(dest))
            if _same(dest, o):
                continue
            fetch = lambda o=o, dest=dest: ctx.blobs.download(container, o.blob, dest)  # noqa: E731
            ctx.retry(at, fetch)
            out.counts["downloaded"] += 1
    out.detail = {"downloaded": out.counts["downloaded"], "dir": str(root)}
    return out


def _same(dest: Path, output: RecordedOutput) -> bool:
    if output.md5 is None or not dest.is_file():
        return False
    return content_md5(dest)[0] == output.md5


def write_record(
    ctx: BatchContext, full: DesiredBatch, results: Mapping[str, ObservedTask]
) -> StepOutcome:
    """The record after this run: what the old one holds that is still true, and every
    task that succeeded now. Outputs Blob keeps no Content-MD5 for get the one of the
    file collect wrote."""
    container = full.containers["output"]
    at = ctx.address("container", container)
    listing, old = ctx.retry(at, lambda: ctx.blobs.read_outputs(container))
    kept = done_tasks(full.tasks, old, listing)
    root = Path(ctx.spec.collect.dir) if ctx.spec.collect else None
    local: dict[str, str] = {}
    if root is not None:
        for task in full.tasks:
            seen = results.get(task.id)
            if task.id in kept or seen is None or not seen.succeeded:
                continue
            for name, b in listing.items():
                rel = name.partition("/")[2]
                if b.md5 is None and name.startswith(f"{task.id}/") and _collected(task, rel):
                    path = root / rel
                    if path.is_file():
                        local[name] = content_md5(path)[0]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    record = record_after(full.tasks, kept, results, listing, local, now)
    if old is not None and record.tasks == old.tasks:
        return StepOutcome(detail={"tasks": len(record.tasks)})
    metadata = blob_metadata(ctx.name, ctx.workspace, stamp=full.stamp)
    ctx.retry(at, lambda: ctx.blobs.write_record(container, record, metadata))
    return StepOutcome(counts={"recorded": len(record.tasks)}, detail={"tasks": len(record.tasks)})
