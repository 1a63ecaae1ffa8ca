"""Task dependencies as Batch keeps them: a task with ``dependsOn`` is scheduled only once
every task it names (``taskIds``) and every task of the job whose id is a number in one
of its ``taskIdRanges`` has completed and satisfied it. A completed task satisfies its
dependents when it succeeded, or when its ``exitConditions`` say ``dependencyAction:
satisfy`` for the way it failed; otherwise they are blocked: they stay ``active`` for
good, and Batch says nothing else about them (no state, no error).

Which exit options apply (Batch's ExitConditions): an exit code listed in ``exitCodes``
or ``exitCodeRanges``, else ``preProcessingError`` when the task could not start (its
resource files failed), ``fileUploadError`` when its outputs failed to upload, else
``default``. Exit code 0 satisfies unless ``exitCodes`` lists 0 itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.local.batch.errors import BatchServiceError
from runner.local.batch.state import Doc


def check(body: Mapping[str, Any], job: Doc) -> None:
    """A task body's ``dependsOn``: only in a job made with ``usesTaskDependencies``, and
    ranges whose start is at most their end."""
    deps = body.get("dependsOn")
    if not deps:
        return
    if not job.get("usesTaskDependencies"):
        raise BatchServiceError("TaskDependenciesNotSpecifiedOnJob")
    for ranged in deps.get("taskIdRanges") or ():
        start, end = ranged.get("start"), ranged.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or start > end:
            raise BatchServiceError("InvalidPropertyValue", PropertyName="taskIdRanges")


def depended_on(task: Doc, tasks: Mapping[str, Doc]) -> list[str]:
    """The ids of the tasks ``task`` waits for: those it names, present or not (Batch
    waits for a named task to be added), and those of the job within its ranges."""
    deps = task.get("dependsOn") or {}
    named = [str(t) for t in deps.get("taskIds") or ()]
    ranges = [(r["start"], r["end"]) for r in deps.get("taskIdRanges") or ()]
    if ranges:
        named += [t for t in tasks if t.isdigit() and any(a <= int(t) <= b for a, b in ranges)]
    return list(dict.fromkeys(named))


def ready(task: Doc, tasks: Mapping[str, Doc]) -> bool:
    """Whether every task ``task`` depends on has completed and satisfied it."""
    if not task.get("dependsOn"):
        return True
    for dep_id in depended_on(task, tasks):
        dep = tasks.get(dep_id) or _ignoring_case(dep_id, tasks)
        if dep is None or dep["state"] != "completed" or not satisfies(dep):
            return False
    return True


def _ignoring_case(task_id: str, tasks: Mapping[str, Doc]) -> Doc | None:
    # Batch keeps an id's case but compares ids without it.
    lowered = task_id.lower()
    return next((d for k, d in tasks.items() if k.lower() == lowered), None)


def satisfies(task: Doc) -> bool:
    """Whether a completed task lets the tasks that depend on it run."""
    info = task.get("executionInfo") or {}
    code = info.get("exitCode")
    failure = info.get("failureInfo")
    options = _exit_options(task.get("exitConditions") or {}, code, failure)
    if options is not None and options.get("dependencyAction"):
        return str(options["dependencyAction"]).lower() == "satisfy"
    return code == 0 and not failure


def _exit_options(conditions: Doc, code: int | None, failure: Doc | None) -> Doc | None:
    for mapping in conditions.get("exitCodes") or ():
        if code is not None and mapping.get("code") == code:
            return mapping.get("exitOptions") or {}
    for mapping in conditions.get("exitCodeRanges") or ():
        if code is not None and mapping.get("start", 0) <= code <= mapping.get("end", -1):
            return mapping.get("exitOptions") or {}
    if code == 0 and not failure:
        return None
    if failure and str(failure.get("code", "")).startswith("FileUpload"):
        return conditions.get("fileUploadError") or conditions.get("default")
    if failure and code is None:
        return conditions.get("preProcessingError") or conditions.get("default")
    return conditions.get("default")
