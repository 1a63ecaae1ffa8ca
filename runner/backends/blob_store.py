"""The Blob storage account of a ``BatchJob``, as the engine uses it: containers, uploads,
listings, downloads and SAS signing, on plain values; the SDK client stays in here.

The calls themselves are ``blob.py``'s, which tests also use with a client of their own;
collect's downloads by read-SAS URL are ``blob_download.py``'s.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.backends import blob, results_blob
from runner.backends.blob_download import BlobDownloads
from runner.backends.sas import SasSigner, signer_for
from runner.plan.batch_desired import LocalFile
from runner.plan.batch_observed import ObservedBlob
from runner.plan.ownership import Ownership
from runner.plan.record_model import ResultsRecord

if TYPE_CHECKING:
    from runner.backends.target import Target


class BlobStore:
    """``verify`` and ``unreachable`` are the target's, as its SDK clients have them: TLS
    trust (a CA bundle path, or True for the system's) and why a URL does not answer when
    the target is down."""

    def __init__(
        self,
        service: Any,
        account_key: str | None,
        verify: str | bool = True,
        unreachable: Callable[[str], str | None] | None = None,
    ) -> None:
        self._service = service
        self._key = account_key
        self._verify = verify
        self._unreachable = unreachable

    def create_container(self, name: str, metadata: Mapping[str, str]) -> bool:
        return blob.create_container(self._service, name, metadata)

    def delete_container(self, name: str) -> bool:
        return blob.delete_container(self._service, name)

    def upload(self, f: LocalFile, metadata: Mapping[str, str]) -> None:
        blob.upload(self._service, f, metadata)

    def upload_bytes(
        self, container: str, name: str, data: bytes, metadata: Mapping[str, str]
    ) -> None:
        blob.upload_bytes(self._service, container, name, data, metadata)

    def list_names(self, container: str, prefix: str = "") -> list[str]:
        return blob.list_names(self._service, container, prefix)

    def delete_blob(self, container: str, name: str) -> bool:
        return blob.delete_blob(self._service, container, name)

    def download(self, container: str, name: str, dest: Path) -> int:
        return blob.download(self._service, container, name, dest)

    def downloads(self, workers: int) -> BlobDownloads:
        """Downloads by read-SAS URL (``signer().read_blob``), ``workers`` at once over
        one connection pool, trusting what this account's SDK client trusts."""
        return BlobDownloads(workers=workers, verify=self._verify, unreachable=self._unreachable)

    def list_owned_containers(self, workspace: str) -> list[tuple[str, str]]:
        return blob.list_owned_containers(self._service, workspace)

    def list_managed_containers(self) -> list[tuple[str, Ownership]]:
        return blob.list_managed_containers(self._service)

    def read_outputs(self, container: str) -> tuple[dict[str, ObservedBlob], ResultsRecord | None]:
        return results_blob.read_outputs(self._service, container)

    def read_bytes(self, container: str, name: str) -> bytes | None:
        return results_blob.read_bytes(self._service, container, name)

    def write_record(
        self, container: str, record: ResultsRecord, metadata: Mapping[str, str]
    ) -> None:
        results_blob.write_record(self._service, container, record, metadata)

    def signer(self, expiry: datetime) -> SasSigner:
        """SAS URLs of this account that all expire at ``expiry``."""
        return signer_for(self._service, self._key, expiry)


def blob_store(target: Target, account: str) -> BlobStore:
    return BlobStore(
        target.blob_service(account),
        target.storage_account_key(account),
        verify=target.verify,
        unreachable=target.unreachable,
    )


def default_blob_store(target: Target) -> BlobStore | None:
    """The target's default storage account (``AZURE_STORAGE_ACCOUNT``, else the local
    one); None on Azure without one named."""
    account = os.environ.get("AZURE_STORAGE_ACCOUNT")
    if account or target.name == "local":
        return blob_store(target, account or "local")
    return None
