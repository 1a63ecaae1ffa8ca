"""Batch and Blob fixtures: real SDK clients aimed at the local target.

``batch_client`` and ``blob_service`` make no SDK retries, so an error answer surfaces at
once; ``make_batch_client(**options)`` gives a client with other options (retries, api
version, a wrong key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def batch_client_for(status: dict[str, Any], **options: Any) -> Any:
    from azure.batch import BatchClient
    from azure.core.credentials import AzureNamedKeyCredential

    batch = status.get("batch")
    if not batch:
        pytest.fail("the local target reported no Batch endpoint", pytrace=False)
    key = options.pop("key", batch["key"])
    settings: dict[str, Any] = {"connection_verify": status["ca_bundle"], "retry_total": 0}
    settings.update(options)
    return BatchClient(batch["url"], AzureNamedKeyCredential(batch["account"], key), **settings)


@pytest.fixture
def batch_client(emulator: dict[str, Any]) -> Any:
    """An ``azure.batch.BatchClient`` on the local target, SDK retries off."""
    return batch_client_for(emulator)


@pytest.fixture
def make_batch_client(emulator: dict[str, Any]) -> Callable[..., Any]:
    """``make_batch_client(retry_total=3, api_version=..., key=...)``."""
    return lambda **options: batch_client_for(emulator, **options)


@pytest.fixture
def blob_service(emulator: dict[str, Any]) -> Any:
    """A ``BlobServiceClient`` on the local target's Azurite, SDK retries off."""
    from azure.storage.blob import BlobServiceClient

    storage = emulator.get("storage")
    if not storage:
        pytest.fail("the local target reported no storage", pytrace=False)
    return BlobServiceClient.from_connection_string(storage["connection_string"], retry_total=0)
