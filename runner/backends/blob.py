"""Blob storage for Batch jobs: containers, uploads that carry their Content-MD5, listing
with MD5 and ownership, and downloads of outputs.

Content-MD5 is computed locally and set on upload (``content_settings``), so a later
listing shows it whatever the upload path (single put or blocks): unchanged files are
recognised without downloading anything.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

from runner.backends.batch_metadata import parse_owner
from runner.backends.errors import error_code, translate
from runner.errors import RunnerError, TemporaryError
from runner.plan.batch import ObservedBlob
from runner.plan.batch_desired import LocalFile
from runner.plan.ownership import Ownership


def _md5_text(value: bytes | bytearray | None) -> str | None:
    return base64.b64encode(bytes(value)).decode() if value else None


def read_containers(service: BlobServiceClient, names: list[str]) -> dict[str, Ownership]:
    """Existing containers among ``names`` with their ownership; absent ones are left out."""
    found: dict[str, Ownership] = {}
    for name in dict.fromkeys(names):
        try:
            props = service.get_container_client(name).get_container_properties()
        except ResourceNotFoundError:
            continue
        except Exception as exc:
            raise translate(exc) from exc
        found[name] = parse_owner(props.metadata)
    return found


def read_blobs(service: BlobServiceClient, container: str) -> dict[tuple[str, str], ObservedBlob]:
    """Every blob of ``container`` (one paged listing) with its Content-MD5 and owner."""
    out: dict[tuple[str, str], ObservedBlob] = {}
    try:
        for b in service.get_container_client(container).list_blobs(include=["metadata"]):
            out[(container, b.name)] = ObservedBlob(
                container=container,
                name=b.name,
                md5=_md5_text(b.content_settings.content_md5),
                owner=parse_owner(b.metadata),
                etag=b.etag,
            )
    except ResourceNotFoundError:
        return {}
    except Exception as exc:
        raise translate(exc) from exc
    return out


def create_container(service: BlobServiceClient, name: str, metadata: Mapping[str, str]) -> bool:
    """Create ``name``; False when it already exists (another apply made it meanwhile)."""
    try:
        service.create_container(name, metadata=dict(metadata))
    except ResourceExistsError as exc:
        if error_code(exc) == "ContainerBeingDeleted":
            # Azure keeps a deleted container's name for a while (teardown of a previous
            # run): the create succeeds once it is gone.
            raise TemporaryError(f"container {name} is still being deleted", delay=5.0) from exc
        return False
    except Exception as exc:
        raise translate(exc) from exc
    return True


def upload(service: BlobServiceClient, f: LocalFile, metadata: Mapping[str, str]) -> None:
    settings = ContentSettings(content_md5=bytearray(base64.b64decode(f.md5)))
    blob = service.get_blob_client(f.container, f.blob)
    try:
        with f.path.open("rb") as data:
            blob.upload_blob(
                data,
                length=f.size,
                overwrite=True,
                content_settings=settings,
                metadata=dict(metadata),
            )
    except Exception as exc:
        raise translate(exc) from exc


def upload_bytes(
    service: BlobServiceClient, container: str, name: str, data: bytes, metadata: Mapping[str, str]
) -> None:
    """A blob made from ``data``, replacing one of that name."""
    try:
        service.get_blob_client(container, name).upload_blob(
            data, overwrite=True, metadata=dict(metadata)
        )
    except Exception as exc:
        raise translate(exc) from exc


def list_names(service: BlobServiceClient, container: str, prefix: str = "") -> list[str]:
    try:
        client = service.get_container_client(container)
        # Names only: the listing's properties of each blob cost far more to read.
        return list(client.list_blob_names(name_starts_with=prefix or None))
    except ResourceNotFoundError:
        return []
    except Exception as exc:
        raise translate(exc) from exc


def delete_blob(service: BlobServiceClient, container: str, name: str) -> bool:
    """Delete one blob; False when it was already gone."""
    try:
        service.get_blob_client(container, name).delete_blob()
    except ResourceNotFoundError:
        return False
    except Exception as exc:
        raise translate(exc) from exc
    return True


def safe_destination(root: Path, relative: str) -> Path:
    """``root/relative``, refusing names that would land outside ``root`` (``..``,
    absolute paths, drive letters, backslashes)."""
    parts = relative.replace("\\", "/").split("/")
    if (
        not relative
        or relative.startswith(("/", "\\"))
        or any(p in ("", ".", "..") for p in parts)
        or ":" in parts[0]
    ):
        raise RunnerError(f"refusing to write {relative!r}: it would land outside {root}")
    base = root.resolve()
    target = (base / "/".join(parts)).resolve()
    if not target.is_relative_to(base):
        raise RunnerError(f"refusing to write {relative!r}: it would land outside {root}")
    return target


def download(service: BlobServiceClient, container: str, blob: str, dest: Path) -> int:
    """Download one blob to ``dest`` (through a temporary name, so a partial file never
    looks complete); returns the bytes written."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    # A link planted under the partial name would carry the bytes outside the collect
    # folder (and the rename would move the link into place): start from a fresh file.
    partial.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        with os.fdopen(os.open(partial, flags, 0o644), "wb") as out:
            size = service.get_blob_client(container, blob).download_blob().readinto(out)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise translate(exc) from exc
    partial.replace(dest)
    return size


def list_owned_containers(service: BlobServiceClient, workspace: str) -> list[tuple[str, str]]:
    """``(name, spec)`` of the containers this workspace's runner made."""
    try:
        found = list(service.list_containers(include_metadata=True))
    except Exception as exc:
        raise translate(exc) from exc
    owners = ((c.name, parse_owner(c.metadata)) for c in found)
    return [(name, o.spec or "?") for name, o in owners if o.managed and o.workspace == workspace]


def list_managed_containers(service: BlobServiceClient) -> list[tuple[str, Ownership]]:
    """``(name, ownership)`` of the containers any runner made, whatever its workspace."""
    try:
        found = list(service.list_containers(include_metadata=True))
    except Exception as exc:
        raise translate(exc) from exc
    owners = ((c.name, parse_owner(c.metadata)) for c in found)
    return [(name, o) for name, o in owners if o.managed]


def delete_container(service: BlobServiceClient, name: str) -> bool:
    """Delete ``name``; False when it was already gone."""
    try:
        service.delete_container(name)
    except ResourceNotFoundError:
        return False
    except Exception as exc:
        raise translate(exc) from exc
    return True


def iter_prefixes(names: list[str]) -> Iterator[str]:
    """First path segment of each blob name (a task id under the output container)."""
    yield from dict.fromkeys(n.split("/", 1)[0] for n in names if "/" in n)
