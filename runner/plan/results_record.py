"""The results record: what a finished Batch run leaves in its output container, so that
a later apply knows which results exist without the pool, the job or the machine that
ran it (DESIGN.md, Workflows: live state is the record).

For each task that succeeded it keeps the task's identity (its command and the content
of everything it ran on) and the output blobs it left, each with its ETag and, when
known, its Content-MD5. A task whose identity is unchanged and whose outputs are all
still there, unchanged, is done: it is not run again. Pure: ``backends/results_blob.py``
reads and writes the blob.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from runner.plan.batch_desired import DesiredTask
from runner.plan.batch_observed import ObservedBlob, ObservedTask
from runner.plan.record_model import RECORD_BLOB, RecordedOutput, RecordedTask, ResultsRecord

__all__ = [
    "RECORD_BLOB",
    "RecordedOutput",
    "RecordedTask",
    "ResultsRecord",
    "describe",
    "done_tasks",
    "output_blobs",
    "record_after",
    "still_done",
]


def output_blobs(task: DesiredTask) -> list[str]:
    """The blobs a task's record covers: its outputs and what it hands to the merge.
    Glob outputs name no single blob; the record keeps what was found for them."""
    names = dict.fromkeys((*task.outputs, *task.handed_on))
    return [f"{task.id}/{n}" for n in names if not any(ch in n for ch in "*?[")]


def still_done(
    task: DesiredTask, recorded: RecordedTask | None, listing: Mapping[str, ObservedBlob]
) -> bool:
    """Whether ``task``'s result is recorded for its identity now and every blob it left
    is still in the output container, unchanged."""
    if recorded is None or recorded.identity != task.identity:
        return False
    present = {o.blob for o in recorded.outputs}
    if any(b not in present for b in output_blobs(task)):
        return False
    return all(
        (seen := listing.get(o.blob)) is not None and o.matches(seen.md5, seen.etag)
        for o in recorded.outputs
    )


def done_tasks(
    tasks: Iterable[DesiredTask],
    record: ResultsRecord | None,
    listing: Mapping[str, ObservedBlob],
) -> dict[str, RecordedTask]:
    """The tasks whose results the record holds, by id."""
    if record is None:
        return {}
    return {
        t.id: record.tasks[t.id]
        for t in tasks
        if t.id in record.tasks and still_done(t, record.tasks[t.id], listing)
    }


def record_after(
    tasks: Iterable[DesiredTask],
    kept: Mapping[str, RecordedTask],
    results: Mapping[str, ObservedTask],
    listing: Mapping[str, ObservedBlob],
    collected_md5: Mapping[str, str],
    now: str,
) -> ResultsRecord:
    """The record a run leaves: what was recorded before and still holds (``kept``),
    and every task that succeeded in this run on its current identity, with the blobs
    it left (``listing``: the output container as listed after collect;
    ``collected_md5``: the Content-MD5 of files collect downloaded, by blob)."""
    out: dict[str, RecordedTask] = {}
    for task in tasks:
        if task.id in kept:
            out[task.id] = kept[task.id]
            continue
        seen = results.get(task.id)
        if seen is None or not seen.succeeded or seen.identity != task.identity:
            continue
        prefix = f"{task.id}/"
        left = [b for name, b in sorted(listing.items()) if name.startswith(prefix)]
        wanted = output_blobs(task)
        if any(w not in listing for w in wanted):
            continue  # an output is missing: not a result to build on
        outputs = tuple(
            RecordedOutput(blob=b.name, etag=b.etag, md5=b.md5 or collected_md5.get(b.name))
            for b in left
            if not _is_std(b.name)
        )
        out[task.id] = RecordedTask(identity=task.identity, finished=now, outputs=outputs)
    return ResultsRecord(tasks=out)


def _is_std(blob: str) -> bool:
    return blob.rsplit("/", 1)[-1] in ("stdout.txt", "stderr.txt")


def describe(recorded: RecordedTask) -> dict[str, Any]:
    """What the plan shows of a recorded result."""
    return {"recorded": recorded.finished, "outputs": [o.blob for o in recorded.outputs]}
