"""Offline checks of the local files a spec names, for ``runner validate``: a Batch job's
input glob must match files and its start task's files must exist. Located in the spec.

Not part of loading: ``destroy`` and ``status`` must work after the inputs are gone.
"""

from __future__ import annotations

import glob
import importlib.util
from pathlib import Path

from runner.errors import Diagnostic
from runner.spec.loader import LoadedSpec
from runner.spec.models import BatchJob

PACKAGE_PREFIX = "package:"


def check_files(loaded: LoadedSpec) -> list[Diagnostic]:
    spec = loaded.spec
    if not isinstance(spec, BatchJob):
        return []
    problems: list[Diagnostic] = []
    base = loaded.base_dir
    pattern = spec.tasks.for_each_file
    matches = glob.glob(pattern, root_dir=base, recursive=True)
    if not any((base / m).is_file() for m in matches):
        problems.append(
            _diagnostic(
                loaded,
                f"tasks.forEachFile {pattern!r} matches no files under {base}",
                "tasks.forEachFile",
            )
        )
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
