"""A ``BatchJob``'s mapped tasks, checked offline before anything is read from or sent to a
target: what each task is made from (the input files ``forEachFile`` matches, or a
sweep's values, numbers or rows), the ids ``tasks.id`` gives them (Batch ids, all
different), every task template rendered for each (an environment value must not look
like a secret once rendered), and what they depend on.

Located in the spec; a problem that is a row's (a malformed row, a field a template uses
and the row lacks) at that row of the rows file, naming the template in the spec.
"""

from __future__ import annotations

import contextlib
import glob
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from runner.errors import Diagnostic, Span
from runner.spec.base import BATCH_ID, BATCH_ID_CHARS, MAX_BATCH_ID
from runner.spec.batch_environment import looks_secret
from runner.spec.loader import LoadedSpec
from runner.spec.models import BatchJob
from runner.spec.sweeps import RowsProblem, SweepItem, TaskOrigin, read_rows, sweep_items
from runner.spec.task_graph import DependencyProblem, job_dependencies
from runner.spec.templates import ROW_FIELD_MISSING, render_task_template

ENVIRONMENT = "tasks.environment"


@dataclass
class TaskProblems:
    """What the checks found, and the texts of the rows files they point into."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)


def check_tasks(loaded: LoadedSpec) -> TaskProblems:
    spec = loaded.spec
    assert isinstance(spec, BatchJob)
    out = TaskProblems()
    origins = _origins(loaded, spec, out)
    if not origins:
        return out
    problem = task_id_problem(spec, origins)
    if problem:
        out.diagnostics.append(_in_spec(loaded, problem, "tasks.id"))
        return out
    for template, where in _templates(spec):
        for origin, _ in origins:
            try:
                rendered = render_task_template(template, origin, spec.vars)
            except ValueError as exc:
                out.diagnostics.append(_template_problem(loaded, str(exc), where, origin, out))
                break
            problem = _setting_problem(where, rendered, origin)
            if problem:
                out.diagnostics.append(_in_spec(loaded, problem, where))
                break
    if spec.tasks.depends_on or spec.merge:
        mapped = [(render_task_template(spec.tasks.id, o, spec.vars), o) for o, _ in origins]
        try:
            job_dependencies(spec, mapped)
        except DependencyProblem as exc:
            out.diagnostics.append(_in_spec(loaded, str(exc), exc.field))
    return out


def task_id_problem(spec: BatchJob, origins: Sequence[tuple[TaskOrigin, str]]) -> str | None:
    """Why the ids ``tasks.id`` gives (each origin with the name messages give it) cannot
    all be task ids of one job, or None: each must be a Batch id, and no two the same."""
    first: str | None = None
    invalid = 0
    seen: dict[str, str] = {}
    for origin, name in origins:
        try:
            task_id = render_task_template(spec.tasks.id, origin, spec.vars)
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
        what = "input file" if spec.tasks.for_each_file is not None else "task"
        first += f" (and {invalid - 1} more {what}{'s' if invalid > 2 else ''})"
    return first


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


def _origins(loaded: LoadedSpec, spec: BatchJob, out: TaskProblems) -> list[tuple[TaskOrigin, str]]:
    """Each mapped task's origin, with the name messages give it."""
    base = loaded.base_dir
    pattern, sweep = spec.tasks.for_each_file, spec.tasks.for_each
    if pattern is not None:
        matches = sorted(glob.glob(pattern, root_dir=base, recursive=True))
        inputs = [m for m in matches if (base / m).is_file()]
        if not inputs:
            summary = f"tasks.forEachFile {pattern!r} matches no files under {base}"
            out.diagnostics.append(_in_spec(loaded, summary, "tasks.forEachFile"))
        return [((base / m).resolve(), m) for m in inputs]
    assert sweep is not None
    rows = []
    if sweep.rows is not None:
        shown = rows_name(loaded, sweep.rows)
        try:
            rows = read_rows(base / sweep.rows, shown)
        except RowsProblem as exc:
            if not exc.line:
                out.diagnostics.append(_in_spec(loaded, str(exc), "tasks.forEach.rows"))
                return []
            span = Span(shown, exc.line, exc.col)
            out.diagnostics.append(Diagnostic(exc.message, span, "tasks.forEach.rows"))
            _add_source(out, shown, base / sweep.rows)
            return []
    return [(item, str(item)) for item in sweep_items(sweep, rows)]


def rows_name(loaded: LoadedSpec, rows: str) -> str:
    """A rows file as messages name it: beside the spec as the spec file is named."""
    if loaded.source is None:
        return rows
    return str(PurePath(loaded.source.name).parent / rows)


def _templates(spec: BatchJob) -> list[tuple[str, str]]:
    """Each task template other than ``tasks.id``, with where the spec holds it."""
    tasks = spec.tasks
    found = [(tasks.command, "tasks.command")]
    found += [(o, f"tasks.outputs[{i}]") for i, o in enumerate(tasks.outputs)]
    found += [(v, f"{ENVIRONMENT}.{name}") for name, v in tasks.environment.items()]
    if spec.merge is not None and spec.merge.inputs is not None:
        found += [(t, f"merge.inputs[{i}]") for i, t in enumerate(spec.merge.inputs)]
    return found


def _setting_problem(where: str, rendered: str, origin: TaskOrigin) -> str | None:
    """A rendered environment value that looks like a secret, named by what it is for."""
    if not where.startswith(f"{ENVIRONMENT}."):
        return None
    what = looks_secret(rendered)
    if what is None:
        return None
    name = where.removeprefix(f"{ENVIRONMENT}.")
    return (
        f"{name} renders, for {_origin_name(origin)}, a value that looks like {what}: "
        f"Batch shows environment values to anyone who can read the job; give it as "
        f"job.secrets.{name}: {{fromEnv: VARIABLE}}"
    )


def _origin_name(origin: TaskOrigin) -> str:
    return origin.name if isinstance(origin, PurePath) else str(origin)


def _template_problem(
    loaded: LoadedSpec, summary: str, where: str, origin: TaskOrigin, out: TaskProblems
) -> Diagnostic:
    """At the template; a field the row lacks at the row, naming the template."""
    if not (isinstance(origin, SweepItem) and origin.row and ROW_FIELD_MISSING in summary):
        return _in_spec(loaded, summary, where)
    row = origin.row
    template = _in_spec(loaded, summary, where)
    used = f" ({template.span})" if template.span else ""
    sweep = loaded.spec.tasks.for_each if isinstance(loaded.spec, BatchJob) else None
    if sweep is not None and sweep.rows is not None:
        _add_source(out, row.source, loaded.base_dir / sweep.rows)
    return Diagnostic(
        summary=summary,
        span=Span(row.source, row.line, 1),
        field_path=where,
        detail=f"{where}{used} uses the field; every row needs it",
    )


def _add_source(out: TaskProblems, shown: str, path: Path) -> None:
    with contextlib.suppress(OSError):  # then the message is shown without the row
        out.sources[shown] = path.read_text(encoding="utf-8-sig", errors="replace")


def _in_spec(loaded: LoadedSpec, summary: str, field_path: str) -> Diagnostic:
    return loaded.diagnostic(summary, field_path)
