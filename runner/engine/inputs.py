"""The local half of a Batch plan's facts: the files a ``BatchJob`` spec names, globbed,
resolved and hashed here once, and a sweep's rows file read, so the planner gets them as
data (``BatchInputs``) and apply uploads and runs exactly what the plan showed.

``engine/observe.py`` reads live state the same way; neither decides anything.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import importlib.util
import os
from pathlib import Path

from runner.errors import Diagnostic, SpecError
from runner.plan.batch_desired import DesiredBatch, desired_batch
from runner.plan.batch_inputs import BatchInputs, InputFile
from runner.plan.batch_secrets import unset_secrets
from runner.spec.files import PACKAGE_PREFIX
from runner.spec.models import BatchJob
from runner.spec.sweeps import RowsProblem, read_rows


def read_inputs(spec: BatchJob, base_dir: Path) -> BatchInputs:
    """The start task's files (in the spec's order) and the input files, with their
    Content-MD5 and size, or a sweep's rows file and its rows. Relative names are relative
    to ``base_dir``, the spec's folder."""
    copy = spec.pool.start_task.copy_ if spec.pool.start_task else []
    paths = [
        package_path(c) if c.startswith(PACKAGE_PREFIX) else (base_dir / c).resolve() for c in copy
    ]
    for entry, path in zip(copy, paths, strict=True):
        if not path.is_file():
            raise _error(f"start task file {entry!r} does not exist", "pool.startTask.copy")
    for unset in unset_secrets(spec, os.environ):
        # Checked before anything is made: apply reads the values when it adds the tasks.
        raise _error(str(unset), f"job.secrets.{unset.name}.fromEnv")
    start_files = tuple(read_file(p) for p in paths)
    sweep = spec.tasks.for_each
    if sweep is None:
        inputs = tuple(read_file(p) for p in input_files(spec, base_dir))
        return BatchInputs(start_files=start_files, inputs=inputs)
    if sweep.rows is None:
        return BatchInputs(start_files=start_files)
    path = (base_dir / sweep.rows).resolve()
    try:
        rows = read_rows(path, sweep.rows)
    except RowsProblem as exc:
        raise _error(str(exc), "tasks.forEach.rows") from None
    return BatchInputs(start_files=start_files, rows_file=read_file(path), rows=tuple(rows))


def desired_from_files(spec: BatchJob, base_dir: Path) -> DesiredBatch:
    """What the spec asks for, given the files under ``base_dir`` as they are now."""
    return desired_batch(spec, read_inputs(spec, base_dir))


def read_file(path: Path) -> InputFile:
    md5, size = content_md5(path)
    return InputFile(path=path, md5=md5, size=size)


def content_md5(path: Path) -> tuple[str, int]:
    """Base64 MD5 of a file, as Blob storage stores it in Content-MD5, and its size."""
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return base64.b64encode(digest.digest()).decode(), size


def package_path(entry: str) -> Path:
    """``package:runner/jobs/topwords.py`` -> that file inside the installed package."""
    rel = entry.removeprefix(PACKAGE_PREFIX).strip("/")
    top = rel.split("/", 1)[0]
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        raise _error(f"no package {top!r} for {entry!r}", "pool.startTask.copy")
    root = Path(next(iter(spec.submodule_search_locations))).parent
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        raise _error(f"{entry!r} names no file of the package", "pool.startTask.copy")
    return path


def input_files(spec: BatchJob, base_dir: Path) -> list[Path]:
    pattern = spec.tasks.for_each_file
    if pattern is None:
        return []  # a sweep's tasks have no input files
    matches = sorted(glob.glob(pattern, root_dir=base_dir, recursive=True))
    files = [(base_dir / m).resolve() for m in matches]
    files = [f for f in files if f.is_file()]
    if not files:
        raise _error(
            f"tasks.forEachFile {pattern!r} matched no files under {base_dir}",
            "tasks.forEachFile",
        )
    return files


def _error(summary: str, field_path: str) -> SpecError:
    return SpecError([Diagnostic(summary=summary, field_path=field_path)])
