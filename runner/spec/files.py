"""Offline checks of the local files a spec names, run by ``validate``, ``plan`` and
``apply`` before anything is read from or sent to a target: a Batch job's input glob must
match files, the task ids they give must be valid and distinct, its start task's files
must exist, the tasks they depend on must be tasks of the job and never wait for each
other in a cycle, and a collect folder must be a folder that can be made. Located in the
spec.

Not part of loading: ``destroy`` and ``status`` must work after the inputs are gone.
"""

from __future__ import annotations

import glob
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

from runner.errors import Diagnostic, SpecError
from runner.spec.base import BATCH_ID, BATCH_ID_CHARS, MAX_BATCH_ID
from runner.spec.loader import LoadedSpec
from runner.spec.models import BatchJob, ContainerGroup
from runner.spec.task_graph import DependencyProblem, job_dependencies
from runner.spec.templates import render_task_template

PACKAGE_PREFIX = "package:"


def raise_file_problems(specs: Sequence[LoadedSpec], cwd: Path | None = None) -> None:
    """Raises one ``SpecError`` naming every problem of every spec, if there are any."""
    problems = [d for loaded in specs for d in check_files(loaded, cwd)]
    if problems:
        sources = {s.source.name: s.source.text for s in specs if s.source}
        raise SpecError(problems, sources)


def check_files(loaded: LoadedSpec, cwd: Path | None = None) -> list[Diagnostic]:
    spec = loaded.spec
    cwd = cwd or Path.cwd()
    if isinstance(spec, ContainerGroup):
        if not spec.runs_to_completion:
            return []
        problem = collect_dir_problem(cwd / spec.collect_dir)
        field = "collect.dir" if spec.collect and spec.collect.dir else "name"
        return [_diagnostic(loaded, problem, field)] if problem else []
    problems: list[Diagnostic] = []
    problem = collect_dir_problem(cwd / spec.collect.dir)
    if problem:
        problems.append(_diagnostic(loaded, problem, "collect.dir"))
    base = loaded.base_dir
    pattern = spec.tasks.for_each_file
    matches = sorted(glob.glob(pattern, root_dir=base, recursive=True))
    inputs = [m for m in matches if (base / m).is_file()]
    if not inputs:
        problems.append(
            _diagnostic(
                loaded,
                f"tasks.forEachFile {pattern!r} matches no files under {base}",
                "tasks.forEachFile",
            )
        )
    problem = task_id_problem(spec, base, inputs)
    if problem:
        problems.append(_diagnostic(loaded, problem, "tasks.id"))
    elif inputs and (spec.tasks.depends_on or spec.merge):
        mapped = [(_task_id(spec, base, name), (base / name).resolve()) for name in inputs]
        try:
            job_dependencies(spec, mapped)
        except DependencyProblem as exc:
            problems.append(_diagnostic(loaded, str(exc), exc.field))
    copies = spec.pool.start_task.copy_ if spec.pool.start_task else []
    for i, entry in enumerate(copies):
        if not _exists(entry, base):
            where = "shipped with runner" if entry.startswith(PACKAGE_PREFIX) else f"in {base}"
            problems.append(
                _diagnostic(
                    loaded,
                    f"start task file {entry!r} does not exist ({where})",
                    f"pool.startTask.copy[{i}]",
                )
            )
    return problems


def task_id_problem(spec: BatchJob, base: Path, inputs: Sequence[str]) -> str | None:
    """Why the ids ``tasks.id`` gives the input files (relative to ``base``) cannot all be
    task ids of one job, or None: each must be a Batch id, and no two the same."""
    first: str | None = None
    invalid = 0
    seen: dict[str, str] = {}
    for name in inputs:
        try:
            task_id = render_task_template(spec.tasks.id, (base / name).resolve(), spec.vars)
        except ValueError as exc:
            return str(exc)
        if not BATCH_ID.match(task_id):
            invalid += 1
            first = first or _invalid_task_id(task_id, name)
            continue
        # Batch keeps an id's case but compares ids without it.
        other = seen.setdefault(task_id.lower(), name)
        if other != name and first is None:
            return (
                f"task id {task_id!r} is made for both {other} and {name}: the ids of a "
                "job's tasks must differ (Batch ignores case)"
            )
    if first is not None and invalid > 1:
        first += f" (and {invalid - 1} more input file{'s' if invalid > 2 else ''})"
    return first


def _task_id(spec: BatchJob, base: Path, name: str) -> str:
    return render_task_template(spec.tasks.id, (base / name).resolve(), spec.vars)


def _invalid_task_id(task_id: str, name: str) -> str:
    bad = sorted(set(task_id) - BATCH_ID_CHARS)
    if bad:
        why = f"it holds {', '.join(repr(c) for c in bad)}"
    else:
        why = f"it has {len(task_id)} characters" if task_id else "it is empty"
    return (
        f"task id {task_id!r} (from {name}) is not a Batch id: 1-{MAX_BATCH_ID} letters, "
        f"digits, '-' and '_', and {why}"
    )


def collect_dir_problem(path: Path) -> str | None:
    """Why ``path`` cannot be the collect folder, or None: it, or the nearest of its
    parents that exists, must be a folder this process may write into."""
    if path.exists():
        if not path.is_dir():
            return f"collect folder {path} exists and is not a folder"
        return None if os.access(path, os.W_OK | os.X_OK) else f"cannot write into {path}"
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                return f"collect folder {path} cannot be made: {parent} is not a folder"
            if not os.access(parent, os.W_OK | os.X_OK):
                return f"collect folder {path} cannot be made: cannot write into {parent}"
            return None
    return None


def _exists(entry: str, base: Path) -> bool:
    if not entry.startswith(PACKAGE_PREFIX):
        return (base / entry).is_file()
    rel = entry.removeprefix(PACKAGE_PREFIX).strip("/")
    found = importlib.util.find_spec(rel.split("/", 1)[0])
    if found is None or not found.submodule_search_locations:
        return False
    root = Path(next(iter(found.submodule_search_locations))).parent.resolve()
    path = (root / rel).resolve()
    return path.is_relative_to(root) and path.is_file()


def _diagnostic(loaded: LoadedSpec, summary: str, field: str) -> Diagnostic:
    if loaded.source is None:
        return Diagnostic(summary=summary, field_path=field)
    return loaded.source.diagnostic(summary, field)
