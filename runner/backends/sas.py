"""Least-privilege shared access signatures for a Batch job's blobs.

Read-only per resource file, create+write per output container, all expiring at
``now + job timeout + margin`` and never later: a leaked URL is useless once the job is
over. Signed with the account key when the target has one, else with a user delegation
key (Azure with an Entra token).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from azure.storage.blob import (
    BlobSasPermissions,
    BlobServiceClient,
    ContainerSasPermissions,
    UserDelegationKey,
    generate_blob_sas,
    generate_container_sas,
)

# Room for the last output upload after the task itself ends at the timeout.
EXPIRY_MARGIN = timedelta(minutes=5)
# A user delegation key lives at most 7 days (Azure Storage limit).
MAX_DELEGATION = timedelta(days=7)


def sas_expiry(timeout: timedelta, now: datetime | None = None) -> datetime:
    start = now or datetime.now(UTC)
    return (start + timeout + EXPIRY_MARGIN).replace(microsecond=0)


@dataclass(frozen=True)
class SasSigner:
    """Makes SAS URLs for one storage account, all with the same expiry."""

    account_name: str
    blob_endpoint: str  # https://<account>.blob.core.windows.net or Azurite's URL
    expiry: datetime
    account_key: str | None = None
    delegation_key: UserDelegationKey | None = None

    def _sign_kwargs(self) -> dict[str, object]:
        if self.account_key:
            return {"account_key": self.account_key}
        return {"user_delegation_key": self.delegation_key}

    def blob_url(self, container: str, blob: str) -> str:
        return f"{self.blob_endpoint.rstrip('/')}/{container}/{quote(blob)}"

    def container_url(self, container: str) -> str:
        return f"{self.blob_endpoint.rstrip('/')}/{container}"

    def read_blob(self, container: str, blob: str) -> str:
        token = generate_blob_sas(
            self.account_name,
            container,
            blob,
            permission=BlobSasPermissions(read=True),
            expiry=self.expiry,
            protocol="https" if self.blob_endpoint.startswith("https") else None,
            **self._sign_kwargs(),  # type: ignore[arg-type]
        )
        return f"{self.blob_url(container, blob)}?{token}"

    def read_container(self, container: str) -> str:
        """Read access to every blob of ``container`` (``<url>/<blob>?<token>``)."""
        token = generate_container_sas(
            self.account_name,
            container,
            permission=ContainerSasPermissions(read=True),
            expiry=self.expiry,
            protocol="https" if self.blob_endpoint.startswith("https") else None,
            **self._sign_kwargs(),  # type: ignore[arg-type]
        )
        return f"{self.container_url(container)}?{token}"

    def write_container(self, container: str) -> str:
        token = generate_container_sas(
            self.account_name,
            container,
            permission=ContainerSasPermissions(create=True, write=True),
            expiry=self.expiry,
            protocol="https" if self.blob_endpoint.startswith("https") else None,
            **self._sign_kwargs(),  # type: ignore[arg-type]
        )
        return f"{self.container_url(container)}?{token}"


def signer_for(service: BlobServiceClient, account_key: str | None, expiry: datetime) -> SasSigner:
    """A signer for ``service``'s account: the account key if given, else a user
    delegation key requested for exactly the SAS lifetime."""
    endpoint = service.url.split("?", 1)[0]
    name = service.account_name or ""
    if account_key:
        return SasSigner(name, endpoint, expiry, account_key=account_key)
    now = datetime.now(UTC)
    key = service.get_user_delegation_key(now, min(expiry, now + MAX_DELEGATION))
    return SasSigner(name, endpoint, expiry, delegation_key=key)
