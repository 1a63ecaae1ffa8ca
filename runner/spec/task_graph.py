"""The dependencies between a Batch job's tasks, resolved and checked: every id a task
depends on names a task of the job, every id range covers at least one, and no task
waits, through others, for itself (Batch would keep such tasks active for good).

Pure: ``spec/files.py`` runs it on the ids the input files or sweep items give, before
anything is made, and the planner on the tasks it makes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from runner.spec.models import BatchJob
from runner.spec.sweeps import TaskOrigin
from runner.spec.templates import render_task_template


@dataclass(frozen=True)
class Wanted:
    """What one task says it depends on: ids, and ranges of whole-number ids."""

    ids: tuple[str, ...] = ()
    ranges: tuple[tuple[int, int], ...] = ()


class DependencyProblem(ValueError):
    """A dependency that cannot hold; ``field`` is where the spec says it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def resolve(
    wanted: Mapping[str, Wanted], fields: Mapping[str, str] | None = None
) -> dict[str, tuple[str, ...]]:
    """Each task's dependencies as task ids of the job (ranges expanded to the tasks they
    cover), in the order of ``wanted``. ``fields`` names, per task id, the spec field its
    dependencies come from (``tasks.dependsOn``). Raises ``DependencyProblem``."""
    fields = fields or {}
    # Batch keeps an id's case but compares ids without it.
    known = {task_id.lower(): task_id for task_id in wanted}
    numbered = sorted((int(t), t) for t in wanted if t.isdigit())
    resolved: dict[str, tuple[str, ...]] = {}
    for task_id, deps in wanted.items():
        where = fields.get(task_id, "tasks.dependsOn")
        found: list[str] = []
        for i, dep in enumerate(deps.ids):
            if dep.lower() not in known:
                raise DependencyProblem(
                    f"task {task_id!r} depends on task {dep!r}, which is not a task of the job",
                    f"{where}.taskIds[{i}]",
                )
            found.append(known[dep.lower()])
        for i, (start, end) in enumerate(deps.ranges):
            covered = [t for n, t in numbered if start <= n <= end]
            if not covered:
                raise DependencyProblem(
                    f"task {task_id!r} depends on the task ids {start}-{end}, and no task of "
                    "the job has one",
                    f"{where}.taskIdRanges[{i}]",
                )
            found += covered
        resolved[task_id] = tuple(dict.fromkeys(found))
    cycle = find_cycle(resolved)
    if cycle:
        path = " -> ".join(repr(t) for t in cycle)
        raise DependencyProblem(
            f"tasks wait for each other: {path}: a dependency cycle",
            fields.get(cycle[0], "tasks.dependsOn"),
        )
    return resolved


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A path that comes back to where it started (first node repeated at the end), or None."""
    done: set[str] = set()
    for root in graph:
        if root in done:
            continue
        path: list[str] = [root]
        on_path = {root}
        stack = [iter(graph.get(root, ()))]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                left = path.pop()
                on_path.discard(left)
                done.add(left)
                continue
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt in done:
                continue
            path.append(nxt)
            on_path.add(nxt)
            stack.append(iter(graph.get(nxt, ())))
    return None


def wanted_dependencies(
    spec: BatchJob, mapped: Sequence[tuple[str, TaskOrigin]]
) -> dict[str, Wanted]:
    """What each of a job's tasks says it depends on, rendered: ``mapped`` holds each
    mapped task's id and what it is made from (input file or sweep item), in order; a
    merge task depends on every mapped task. Raises ``DependencyProblem`` (a template that
    fails to render included)."""
    deps = spec.tasks.depends_on
    wanted: dict[str, Wanted] = {}
    for task_id, path in mapped:
        if deps is None:
            wanted[task_id] = Wanted()
            continue
        try:
            rendered = (render_task_template(t, path, spec.vars) for t in deps.task_ids)
            # A template may give some files no dependency: it renders empty for them.
            ids = tuple(i for i in rendered if i)
        except ValueError as exc:
            raise DependencyProblem(str(exc), "tasks.dependsOn.taskIds") from None
        ranges = []
        for i, r in enumerate(deps.task_id_ranges):
            where = f"tasks.dependsOn.taskIdRanges[{i}]"
            start, end = (_bound(b, path, spec, where) for b in (r.start, r.end))
            if start <= end:  # a rendered range that ends first names no task
                ranges.append((start, end))
        wanted[task_id] = Wanted(ids, tuple(ranges))
    merge = spec.merge
    if merge is not None:
        if merge.id.lower() in {t.lower() for t in wanted}:
            raise DependencyProblem(
                f"merge task id {merge.id!r} is also a mapped task's id", "merge.id"
            )
        wanted[merge.id] = Wanted(ids=tuple(t for t, _ in mapped))
    return wanted


def job_dependencies(
    spec: BatchJob, mapped: Sequence[tuple[str, TaskOrigin]]
) -> dict[str, tuple[str, ...]]:
    """Each task's dependencies as task ids of the job (see ``wanted_dependencies``),
    checked: raises ``DependencyProblem``."""
    wanted = wanted_dependencies(spec, mapped)
    fields = {t: "tasks.dependsOn" for t, _ in mapped}
    if spec.merge is not None:
        fields[spec.merge.id] = "merge"
    return resolve(wanted, fields)


def _bound(value: int | str, path: TaskOrigin, spec: BatchJob, where: str) -> int:
    if isinstance(value, int):
        return value
    try:
        text = render_task_template(value, path, spec.vars).strip()
    except ValueError as exc:
        raise DependencyProblem(str(exc), where) from None
    if not text.isdigit():
        raise DependencyProblem(
            f"task id range bound {value!r} gives {text!r} for {_name(path)}, not a whole number",
            where,
        )
    return int(text)


def _name(origin: TaskOrigin) -> str:
    return origin.name if isinstance(origin, PurePath) else str(origin)
