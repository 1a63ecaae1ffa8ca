"""The results record's blob (``plan/results_record.py``): read with the output
container's listing when planning, written by the run once its outputs are in."""

from __future__ import annotations

from collections.abc import Mapping

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContentSettings

from runner.backends.blob import read_blobs
from runner.backends.errors import translate
from runner.plan.batch_observed import ObservedBlob
from runner.plan.record_model import RECORD_BLOB, ResultsRecord


def read_outputs(
    service: BlobServiceClient, container: str
) -> tuple[dict[str, ObservedBlob], ResultsRecord | None]:
    """The output container's blobs by name (one paged listing), and its record."""
    listing = {name: b for (_, name), b in read_blobs(service, container).items()}
    if RECORD_BLOB not in listing:
        return listing, None
    try:
        data = service.get_blob_client(container, RECORD_BLOB).download_blob().readall()
    except ResourceNotFoundError:
        return listing, None
    except Exception as exc:
        raise translate(exc) from exc
    return listing, ResultsRecord.from_json(data)


def read_bytes(service: BlobServiceClient, container: str, name: str) -> bytes | None:
    """A blob's content; None when there is no such blob (or container)."""
    try:
        return bytes(service.get_blob_client(container, name).download_blob().readall())
    except ResourceNotFoundError:
        return None
    except Exception as exc:
        raise translate(exc) from exc


def write_record(
    service: BlobServiceClient,
    container: str,
    record: ResultsRecord,
    metadata: Mapping[str, str],
) -> None:
    try:
        service.get_blob_client(container, RECORD_BLOB).upload_blob(
            record.to_json().encode(),
            overwrite=True,
            metadata=dict(metadata),
            content_settings=ContentSettings(content_type="application/json"),
        )
    except Exception as exc:
        raise translate(exc) from exc
