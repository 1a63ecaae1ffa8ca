"""Offline checks of the local files a spec names, run by ``validate``, ``plan`` and
``apply`` before anything is read from or sent to a target: a Batch job's tasks (its input
glob must match files, or its rows file hold rows; see ``task_checks``), its start task's
files must exist, the variables its secrets come from must be set, and a collect folder
must be a folder that can be made. Located in the spec, or in a rows file.

Not part of loading: ``destroy`` and ``status`` must work after the inputs are gone.
"""

from __future__ import annotations

import glob
import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path

from runner.errors import Diagnostic, SpecError
from runner.spec.batch_environment import unset_secret
from runner.spec.loader import LoadedSpec
from runner.spec.models import BatchJob, ContainerGroup, Workflow
from runner.spec.task_checks import TaskProblems, check_tasks

PACKAGE_PREFIX = "package:"


def raise_file_problems(specs: Sequence[LoadedSpec], cwd: Path | None = None) -> None:
    """Raises one ``SpecError`` naming every problem of every spec, if there are any."""
    problems: list[Diagnostic] = []
    sources = {s.source.name: s.source.text for s in specs if s.source}
    for loaded in specs:
        found = _check(loaded, cwd)
        problems += found.diagnostics
        sources.update(found.sources)
    if problems:
        raise SpecError(problems, sources)


def check_files(loaded: LoadedSpec, cwd: Path | None = None) -> list[Diagnostic]:
    return _check(loaded, cwd).diagnostics


def _check(loaded: LoadedSpec, cwd: Path | None = None) -> TaskProblems:
    spec = loaded.spec
    cwd = cwd or Path.cwd()
    if isinstance(spec, Workflow):
        return _check_workflow(loaded, cwd)
    if isinstance(spec, ContainerGroup):
        if not spec.runs_to_completion:
            return TaskProblems()
        problem = collect_dir_problem(cwd / spec.collect_dir)
        field = "collect.dir" if spec.collect and spec.collect.dir else "name"
        return TaskProblems([_diagnostic(loaded, problem, field)] if problem else [])
    problems: list[Diagnostic] = []
    if spec.collect is not None:
        problem = collect_dir_problem(cwd / spec.collect.dir)
        if problem:
            problems.append(_diagnostic(loaded, problem, "collect.dir"))
    return _check_batch(loaded, spec, problems, map_files=True)


def _check_workflow(loaded: LoadedSpec, cwd: Path) -> TaskProblems:
    """Each step's collect folder and local input files; a Batch step's start task files
    and secrets, and its tasks too when it takes no inputs (with inputs, its tasks map
    over files that exist only once the apply has handed them on)."""
    out = TaskProblems()
    for step in loaded.steps:
        if step.collect is not None:
            problem = collect_dir_problem(cwd / step.collect.dir)
            if problem:
                out.diagnostics.append(
                    _diagnostic(loaded, problem, f"{step.field_path}.collect.dir")
                )
        for name, source in step.inputs.items():
            if source.files is not None and not _matches(source.files, loaded.base_dir):
                out.diagnostics.append(
                    _diagnostic(
                        loaded,
                        f"input {name!r}: {source.files!r} matches no files under "
                        f"{loaded.base_dir}",
                        f"{step.field_path}.inputs.{name}.files",
                    )
                )
        spec = step.spec
        if isinstance(spec, BatchJob):
            found = _check_batch(step.loaded, spec, [], map_files=not step.inputs)
            out.diagnostics += found.diagnostics
            out.sources.update(found.sources)
    return out


def _matches(pattern: str, base: Path) -> bool:
    return any((base / m).is_file() for m in glob.iglob(pattern, root_dir=base, recursive=True))


def _check_batch(
    loaded: LoadedSpec, spec: BatchJob, problems: list[Diagnostic], *, map_files: bool
) -> TaskProblems:
    base = loaded.base_dir
    tasks = check_tasks(loaded) if map_files else TaskProblems()
    problems += tasks.diagnostics
    for name, secret in spec.job.secrets.items():
        if secret.from_env not in os.environ:
            summary = unset_secret(name, secret.from_env)
            problems.append(_diagnostic(loaded, summary, f"job.secrets.{name}.fromEnv"))
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
    return TaskProblems(problems, tasks.sources)


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
    return loaded.diagnostic(summary, field)
