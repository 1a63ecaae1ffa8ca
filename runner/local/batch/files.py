"""Task and node files: listing, properties and content, confined to the folder asked about."""

from __future__ import annotations

import mimetypes
import os
import shutil
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from runner.local.batch.errors import BatchServiceError
from runner.local.batch.wire import iso_from_ns
from runner.local.nodes.layout import inside

Doc = dict[str, Any]


def _iso(stamp: float) -> str:
    return iso_from_ns(int(stamp * 1_000_000_000))


def _http(stamp: float) -> str:
    return format_datetime(datetime.fromtimestamp(stamp, UTC), usegmt=True)


def resolve(folder: Path, relative: str) -> Path:
    """The file ``relative`` names under ``folder``; never a path outside it."""
    relative = relative.replace("\\", "/").lstrip("/")
    path = folder / relative
    if not relative or not inside(folder, path) or not path.exists():
        raise BatchServiceError("FileNotFound")
    return path


def _entry(path: Path, name: str, url_base: str) -> Doc:
    info = path.stat()
    entry: Doc = {
        "name": name,
        "url": f"{url_base}/{quote(name, safe='')}",
        "isDirectory": path.is_dir(),
    }
    if not path.is_dir():
        entry["properties"] = {
            "creationTime": _iso(info.st_ctime),
            "lastModified": _iso(info.st_mtime),
            # A string on the wire (azure-batch reads it with format="str"), as Azure sends it.
            "contentLength": str(info.st_size),
            "contentType": mimetypes.guess_type(name)[0] or "application/octet-stream",
            "fileMode": f"{info.st_mode:o}",
        }
    return entry


def list_files(folder: Path, recursive: bool, url_base: str, prefix: str = "") -> list[Doc]:
    """Entries under ``folder``, names relative to it with ``/`` separators."""
    if not folder.is_dir():
        return []
    entries: list[Doc] = []
    if recursive:
        for current, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(dirs) + sorted(names):
                path = Path(current) / name
                rel = path.relative_to(folder).as_posix()
                entries.append(_entry(path, prefix + rel, url_base))
    else:
        for path in sorted(folder.iterdir()):
            entries.append(_entry(path, prefix + path.name, url_base))
    return entries


def headers(path: Path, url: str) -> dict[str, str]:
    info = path.stat()
    return {
        "ocp-creation-time": _http(info.st_ctime),
        # Written as .NET writes a bool, and the URL percent-encoded whole (recorded answers).
        "ocp-batch-file-isdirectory": "True" if path.is_dir() else "False",
        "ocp-batch-file-url": quote(url, safe=""),
        "ocp-batch-file-mode": f"{info.st_mode:o}",
        "Last-Modified": _http(info.st_mtime),
        "Content-Type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
    }


def byte_range(value: str | None, size: int) -> tuple[int, int] | None:
    """``bytes=a-b`` (the ``ocp-range`` header) as an inclusive range within ``size``."""
    if not value or not value.startswith("bytes="):
        return None
    start_text, _, end_text = value[len("bytes=") :].partition("-")
    try:
        if start_text:
            start = int(start_text)
            end = int(end_text) if end_text else size - 1
        else:
            start, end = max(0, size - int(end_text)), size - 1
    except ValueError:
        return None
    return start, min(end, size - 1)


def delete(folder: Path, relative: str, recursive: bool) -> None:
    """Deletes a file, or a folder when ``recursive`` (an empty one either way)."""
    path = resolve(folder, relative)
    if path.resolve() == folder.resolve():
        raise BatchServiceError("OperationNotValidAtThisTime", "The root folder cannot be deleted.")
    if not path.is_dir():
        path.unlink()
    elif recursive:
        shutil.rmtree(path)
    elif any(path.iterdir()):
        raise BatchServiceError(
            "OperationNotValidAtThisTime", "The directory is not empty; set recursive to delete it."
        )
    else:
        path.rmdir()
