"""Resource files in and output files out, through their SAS URLs, as a Batch node does.

Plain HTTP(S) requests against the Blob REST API (``List Blobs``, ``Get Blob``, ``Put Blob``
with ``x-ms-blob-type: BlockBlob``), so the same code works against Azurite and Azure.
Every local path is checked to stay inside the task folder before anything is written.
"""

from __future__ import annotations

import glob
import os
import shutil
import ssl
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from runner.local.nodes.layout import inside

BLOB_API_VERSION = "2021-08-06"
TIMEOUT = 60.0
_WILDCARDS = set("*?[")


class TransferError(Exception):
    """A resource file or output file failed; ``code`` is Batch's failure code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# None: the system's trust store, as on an Azure node. See ``trust``.
_tls: ssl.SSLContext | None = None


def trust(cafile: Path) -> None:
    """Also trusts ``cafile``: the local target's certificate, once its Azurite serves HTTPS,
    as Azure's nodes trust the certificates of Azure Storage."""
    global _tls
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=str(cafile))
    _tls = context


def _open(
    url: str, method: str = "GET", data: Any = None, headers: dict[str, str] | None = None
) -> Any:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    request.add_header("x-ms-version", BLOB_API_VERSION)
    return urllib.request.urlopen(request, timeout=TIMEOUT, context=_tls)


def _download(url: str, dest: Path, what: str) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _open(url) as response, dest.open("wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    except urllib.error.HTTPError as err:
        code = {403: "BlobAccessDenied", 404: "BlobNotFound"}.get(err.code, "BlobDownloadMiscError")
        raise TransferError(code, f"{what}: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        raise TransferError("BlobDownloadMiscError", f"{what}: {err}") from err


def _target(wd: Path, task_folder: Path, relative: str) -> Path:
    dest = wd / relative
    if os.path.isabs(relative) or not inside(task_folder, dest):
        raise TransferError(
            "ResourceFilePathInvalid",
            f"filePath {relative!r} would be written outside the task folder",
        )
    return dest


def _with_path(container_url: str, blob: str) -> str:
    parts = urlsplit(container_url)
    path = parts.path.rstrip("/") + "/" + quote(blob)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _list_blobs(container_url: str, prefix: str) -> Iterator[str]:
    parts = urlsplit(container_url)
    marker = ""
    while True:
        query = "&".join(
            q
            for q in (
                parts.query,
                "restype=container&comp=list",
                f"prefix={quote(prefix)}" if prefix else "",
                f"marker={quote(marker)}" if marker else "",
            )
            if q
        )
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
        try:
            with _open(url) as response:
                root = ET.fromstring(response.read())
        except urllib.error.HTTPError as err:
            code = {403: "BlobAccessDenied", 404: "BlobNotFound"}.get(
                err.code, "BlobDownloadMiscError"
            )
            raise TransferError(code, f"listing {parts.path}: HTTP {err.code}") from err
        except (urllib.error.URLError, OSError, ET.ParseError) as err:
            raise TransferError("BlobDownloadMiscError", f"listing {parts.path}: {err}") from err
        for name in root.iterfind("./Blobs/Blob/Name"):
            if name.text:
                yield name.text
        marker = root.findtext("NextMarker") or ""
        if not marker:
            return


def fetch_resource_files(files: list[dict[str, Any]], wd: Path, task_folder: Path) -> None:
    """Downloads a task's ``resourceFiles`` into its working directory."""
    wd.mkdir(parents=True, exist_ok=True)
    for item in files:
        file_path = item.get("filePath") or ""
        if item.get("httpUrl"):
            if not file_path:
                raise TransferError("ResourceFilePathInvalid", "filePath is required with httpUrl")
            dest = _target(wd, task_folder, file_path)
            _download(item["httpUrl"], dest, file_path)
            _chmod(dest, item.get("fileMode"))
        elif item.get("storageContainerUrl"):
            base = _target(wd, task_folder, file_path) if file_path else wd
            for blob in _list_blobs(item["storageContainerUrl"], item.get("blobPrefix") or ""):
                dest = _target(base, task_folder, blob)
                _download(_with_path(item["storageContainerUrl"], blob), dest, blob)
                _chmod(dest, item.get("fileMode"))
        else:
            raise TransferError(
                "AutoStorageNotSupported",
                "only httpUrl and storageContainerUrl resource files are supported "
                "by the local target",
            )


def _chmod(path: Path, mode: str | None) -> None:
    if mode:
        path.chmod(int(mode, 8))


def _matches(pattern: str, wd: Path, task_folder: Path) -> Iterator[tuple[Path, str]]:
    """Files matched by ``pattern`` (relative to ``wd``) and each one's name below the base."""
    parts = pattern.replace("\\", "/").split("/")
    fixed: list[str] = []
    for part in parts:
        if _WILDCARDS & set(part):
            break
        fixed.append(part)
    wildcard = len(fixed) < len(parts)
    base = wd.joinpath(*fixed[:-1]) if not wildcard else wd.joinpath(*fixed)
    for found in sorted(glob.glob(str(wd / pattern), recursive=True)):
        path = Path(found)
        if not path.is_file() or not inside(task_folder, path):
            continue
        relative = os.path.relpath(path, base) if wildcard else path.name
        yield path, relative.replace(os.sep, "/")


def upload_output_files(
    outputs: list[dict[str, Any]], wd: Path, task_folder: Path, succeeded: bool
) -> list[str]:
    """Uploads the outputs whose condition holds; returns the blob names written."""
    written: list[str] = []
    log = task_folder / "fileuploadout.txt"
    for item in outputs:
        condition = str(
            ((item.get("uploadOptions") or {}).get("uploadCondition")) or "taskcompletion"
        ).lower()
        if (condition == "tasksuccess" and not succeeded) or (
            condition == "taskfailure" and succeeded
        ):
            continue
        destination = (item.get("destination") or {}).get("container") or {}
        container_url = destination.get("containerUrl")
        if not container_url:
            raise TransferError(
                "FileUploadMiscError", "destination.container.containerUrl is missing"
            )
        pattern = item.get("filePattern") or ""
        prefix = (destination.get("path") or "").strip("/")
        has_wildcard = bool(_WILDCARDS & set(pattern))
        headers = {
            h["name"]: h.get("value") or ""
            for h in destination.get("uploadHeaders") or []
            if h.get("name")
        }
        for path, relative in _matches(pattern, wd, task_folder):
            if has_wildcard:
                name = f"{prefix}/{relative}" if prefix else relative
            else:
                name = prefix or relative
            _put(_with_path(container_url, name), path, headers)
            written.append(name)
            with log.open("a") as out:
                out.write(f"Uploaded {path} to {name}\n")
    return written


def _put(url: str, path: Path, headers: dict[str, str]) -> None:
    size = path.stat().st_size
    all_headers = {"x-ms-blob-type": "BlockBlob", "Content-Length": str(size), **headers}
    try:
        with path.open("rb") as body, _open(url, "PUT", body, all_headers):
            pass
    except urllib.error.HTTPError as err:
        code = {403: "FileUploadAuthenticationError", 404: "FileUploadContainerNotFound"}.get(
            err.code, "FileUploadMiscError"
        )
        raise TransferError(code, f"upload of {path.name}: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        raise TransferError("FileUploadMiscError", f"upload of {path.name}: {err}") from err


def upload_files(container_url: str, files: list[tuple[Path, str]]) -> int:
    """Uploads each local file to the blob named beside it; the number uploaded."""
    for path, blob in files:
        _put(_with_path(container_url, blob), path, {})
    return len(files)
