"""Which of a Batch run's tasks can never run: Batch keeps a task whose dependency failed
(and does not satisfy it: ``dependencyAction`` block, the default) active for good, and
says nothing else about it, so the wait would last until the job's timeout. A task that
waits for a blocked task is blocked too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from runner.plan.batch import ObservedTask
from runner.plan.batch_desired import DesiredTask


def blocked(tasks: Sequence[DesiredTask], seen: Mapping[str, ObservedTask]) -> dict[str, str]:
    """Each blocked task's id -> why, naming the failed task that blocks it."""
    by_id = {t.id: t for t in tasks}
    out: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for task in tasks:
            state = seen.get(task.id)
            if task.id in out or (state is not None and state.state == "completed"):
                continue
            why = _blocked_by(task, by_id, seen, out)
            if why:
                out[task.id] = why
                changed = True
    return out


def _blocked_by(
    task: DesiredTask,
    by_id: Mapping[str, DesiredTask],
    seen: Mapping[str, ObservedTask],
    known: Mapping[str, str],
) -> str | None:
    for dep_id in task.depends_on:
        if dep_id in known:
            return f"it waits for {dep_id}, which cannot run ({known[dep_id]})"
        dep = seen.get(dep_id)
        desired = by_id.get(dep_id)
        if dep is None or dep.state != "completed" or dep.succeeded:
            continue
        if desired is not None and desired.dependency_action == "satisfy":
            continue
        return f"{dep_id} failed ({dep.why}) and blocks it (dependencyAction: block)"
    return None
