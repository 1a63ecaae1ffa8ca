"""Collecting a Batch job's outputs: each task's outputs, and the stdout and stderr of a
failed one, download into the collect folder as soon as the wait sees the task completed,
several files at once, while other tasks still run. The collect step then fetches what is
left and reports every task, so apply ends soon after the last task does.

A job without ``collect`` (a workflow step collects by itself) downloads nothing, yet its
tasks are listed and reported the same: succeeded, failed, blocked, missing outputs.

Only a task whose identity is this spec's is collected (one replaced by another run ran
something else); no name may land outside the collect folder. Downloads are GETs of the
run's read-SAS URLs over one connection pool, a connection per worker: with many at once
the client's CPU is what bounds collect, and the storage SDK's pipeline costs twice the CPU
of a plain GET.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from runner.backends import blob
from runner.engine.batch_context import BatchContext
from runner.engine.batch_dependencies import blocked
from runner.engine.executor import StepOutcome
from runner.errors import PermanentError
from runner.plan.batch import ObservedTask
from runner.plan.batch_desired import DesiredTask

# Downloads in flight at once: Blob answers each in a few milliseconds plus the network's
# round trip, which many concurrent requests hide.
COLLECT_WORKERS = 16
STD_FILES = ("stdout.txt", "stderr.txt")


@dataclass
class TaskFiles:
    """What one task left in the output container and what of it was downloaded.
    ``listed`` False: ``present`` are the names the task declares, fetched unlisted, and
    one that is not there is a missing output, not a failed download."""

    present: list[str] = field(default_factory=list)  # names below ``<task id>/``
    downloads: list[tuple[str, Path, Future[int]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    listed: bool = True


class Collector:
    """Downloads the outputs of completed tasks in worker threads. ``seen`` starts the
    tasks a poll found completed; ``finish`` waits for every download."""

    def __init__(self, ctx: BatchContext, workers: int = COLLECT_WORKERS) -> None:
        self._ctx = ctx
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="collect")
        self._downloads = ctx.blobs.downloads(workers)
        self._lock = threading.Lock()
        self._listings: dict[str, Future[TaskFiles]] = {}
        self._container = ctx.desired.containers["output"]
        self._root = collect_root(ctx)
        self._at = ctx.address("collect", str(self._root or self._container))

    def seen(self, results: Mapping[str, ObservedTask]) -> None:
        """Start collecting each task of ours that ``results`` shows completed."""
        for task in self._ctx.desired.tasks:
            found = results.get(task.id)
            if found is not None and _collectable(task, found):
                self.start(task, found)

    def start(self, task: DesiredTask, found: ObservedTask, names: list[str] | None = None) -> None:
        """Collect one task; ``names`` are its blobs below ``<task id>/`` if known, else
        they are listed first."""
        with self._lock:
            if task.id in self._listings:
                return
            self._listings[task.id] = self._pool.submit(self._files, task, found, names)

    def started(self, task_id: str) -> bool:
        with self._lock:
            return task_id in self._listings

    def finish(self) -> dict[str, TaskFiles]:
        """Every started task's files, once all their downloads are over."""
        try:
            with self._lock:
                listings = dict(self._listings)
            files = {task_id: f.result() for task_id, f in listings.items()}
            wait([d for tf in files.values() for _, _, d in tf.downloads])
            return files
        finally:
            self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._downloads.close()

    def _download(self, name: str, dest: Path) -> int:
        # The signer is the run's, made on first use (on Azure without an account key it
        # asks for a user delegation key): inside the retry, like the GET.
        url = self._ctx.signer().read_blob(self._container, name)
        return self._downloads.download(url, dest)

    def _files(self, task: DesiredTask, found: ObservedTask, names: list[str] | None) -> TaskFiles:
        ctx = self._ctx
        out = TaskFiles()
        if names is None and (names := declared(task, found, self._root)) is not None:
            out.listed = False
        if names is None:
            prefix = f"{task.id}/"
            listed = ctx.retry(self._at, lambda: ctx.blobs.list_names(self._container, prefix))
            names = [n[len(prefix) :] for n in listed if n.startswith(prefix)]
        out.present = names
        ok = found.succeeded
        if self._root is None:
            return out
        for rel in names:
            is_std = rel in STD_FILES
            if (is_std and ok) or rel in task.handed_on:
                continue  # handed on: uploaded for the merge task, not collected
            dest_rel = f"{task.id}/{rel}" if is_std else rel
            try:
                dest = blob.safe_destination(self._root, dest_rel)
            except Exception as exc:
                out.errors.append(str(exc))
                continue
            fetch = partial(self._download, f"{task.id}/{rel}", dest)
            out.downloads.append((rel, dest, self._pool.submit(ctx.retry, self._at, fetch)))
        return out


def declared(task: DesiredTask, found: ObservedTask, root: Path | None) -> list[str] | None:
    """The blobs to fetch of a task that succeeded, when its outputs name them all: no
    listing is needed (a round trip less, and none of a whole container). None when they
    must be listed: a failed task (its stdout and stderr, whatever outputs it left), glob
    outputs, outputs handed on (their presence is checked, not fetched), or no folder to
    download into."""
    if root is None or not found.succeeded or task.handed_on or not task.outputs:
        return None
    if any(ch in pattern for pattern in task.outputs for ch in "*?["):
        return None
    return list(dict.fromkeys(task.outputs))


def collect_root(ctx: BatchContext) -> Path | None:
    """The folder outputs download into; None when the job collects nothing."""
    return Path(ctx.spec.collect.dir) if ctx.spec.collect is not None else None


def _collectable(task: DesiredTask, found: ObservedTask) -> bool:
    return found.state == "completed" and found.identity == task.identity


def collect(
    ctx: BatchContext, results: Mapping[str, ObservedTask], collector: Collector
) -> StepOutcome:
    """The collect step: fetch what the wait did not start, wait for every download, and
    count succeeded, failed and downloaded. A failed task, or a missing output, is among
    the outcome's errors."""
    container = ctx.desired.containers["output"]
    root = collect_root(ctx)
    at = ctx.address("collect", str(root or container))
    out = StepOutcome(counts={"succeeded": 0, "failed": 0, "downloaded": 0})
    stuck = blocked(ctx.desired.tasks, results)
    left = [
        t
        for t in ctx.desired.tasks
        if t.id in results and _collectable(t, results[t.id]) and not collector.started(t.id)
    ]
    listed = []
    for task in left:
        if declared(task, results[task.id], root) is None:
            listed.append(task)
        else:
            collector.start(task, results[task.id])
    if listed:
        # One listing of the container serves every other task the wait did not start.
        by_task: dict[str, list[str]] = {t.id: [] for t in listed}
        for name in ctx.retry(at, lambda: ctx.blobs.list_names(container)):
            task_id, _, rest = name.partition("/")
            if rest and task_id in by_task:
                by_task[task_id].append(rest)
        for task in listed:
            collector.start(task, results[task.id], by_task[task.id])
    files = collector.finish()
    for task in ctx.desired.tasks:
        seen = results.get(task.id)
        if task.id in stuck:
            out.counts["blocked"] = out.counts.get("blocked", 0) + 1
            out.errors.append(
                f"task {task.id} did not run: {stuck[task.id]}; Batch keeps it active"
            )
            continue
        if seen is None or seen.state != "completed":
            continue
        if seen.identity != task.identity:
            # Replaced in the job by another run while this one waited: its result was
            # computed from another definition, so it is not this run's.
            out.errors.append(
                f"task {task.id} in job {ctx.spec.job.id} ran another command or "
                "other inputs than this spec's; its outputs were not collected"
            )
            continue
        ok = seen.succeeded
        out.counts["succeeded" if ok else "failed"] += 1
        if not ok:
            where = (
                f"{root / task.id}/stderr.txt"
                if root is not None
                else f"the output container {container}/{task.id}/stderr.txt"
            )
            out.errors.append(f"task {task.id} failed ({seen.why}); see {where}")
        got = files[task.id]
        out.errors += got.errors
        present = list(got.present)
        for rel, dest, download in got.downloads:
            error = download.exception()
            if error is not None and not got.listed and _absent(error):
                present.remove(rel)  # reported below as a missing output
                continue
            if error is not None:
                out.errors.append(f"{task.id}: {error}")
                continue
            out.outputs.append(str(dest))
            out.counts["downloaded"] += 1
        out.errors += _missing_outputs(task, present, ok, container)
    out.detail = {"downloaded": out.counts["downloaded"], "dir": str(root) if root else None}
    return out


def _absent(error: BaseException) -> bool:
    return isinstance(error, PermanentError) and error.status == 404


def _missing_outputs(task: DesiredTask, present: list[str], ok: bool, container: str) -> list[str]:
    if not ok:
        return []
    return [
        f"task {task.id} succeeded but {container} holds no {task.id}/{pattern}"
        for pattern in task.outputs
        if not any(ch in pattern for ch in "*?[") and pattern not in present
    ]
