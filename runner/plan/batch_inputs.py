"""The local files a ``BatchJob`` spec names, as data: what ``engine/inputs.py`` read (paths,
Content-MD5, sizes, a sweep's rows) when the plan was made. The planner turns them into
uploads and tasks without touching the disk, and apply uses the very same ones."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from runner.spec.sweeps import SweepRow


@dataclass(frozen=True)
class BlobLocation:
    """Where an input already is in Blob storage (an earlier workflow step's output): it
    is read from there, never uploaded."""

    container: str
    blob: str


@dataclass(frozen=True)
class InputFile:
    """One input file: where it is, its base64 Content-MD5 (as Blob storage keeps it)
    and its size in bytes. A file an earlier step left in the cloud has a ``location``
    and a ``path`` made of its name only (what templates see as ``file``)."""

    path: Path
    md5: str
    size: int
    location: BlobLocation | None = None


@dataclass(frozen=True)
class BatchInputs:
    # pool.startTask.copy, in the spec's order; package files resolved to their path
    start_files: tuple[InputFile, ...] = ()
    # the files tasks.forEachFile matched, sorted: one task each
    inputs: tuple[InputFile, ...] = ()
    # tasks.forEach.rows: the file, and its rows in order (one task each)
    rows_file: InputFile | None = None
    rows: tuple[SweepRow, ...] = ()
