"""Credentials: a static bearer token for the local target; for Azure,
``DefaultAzureCredential`` or the ``AZURE_AUTH_LOCATION`` SDK auth file the Azure samples
use (``clientId``, ``clientSecret``, ``tenantId``, ``subscriptionId``, endpoints)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from azure.core.credentials import AccessToken

from runner.errors import TargetError

ARM_ENDPOINT = "https://management.azure.com"


class StaticTokenCredential:
    """The local emulator accepts any bearer token; this one never expires."""

    def __init__(self, token: str = "runner-local-token") -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 24 * 3600)


@dataclass(frozen=True)
class AuthFile:
    client_id: str
    client_secret: str
    tenant_id: str
    subscription_id: str | None
    authority_host: str | None
    arm_endpoint: str


def read_auth_file(path: str | Path) -> AuthFile:
    """The file ``az ad sp create-for-rbac --sdk-auth`` writes."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as exc:
        raise TargetError(f"AZURE_AUTH_LOCATION names {path}, which cannot be read: {exc}") from exc
    except ValueError as exc:
        raise TargetError(f"AZURE_AUTH_LOCATION file {path} is not JSON: {exc}") from exc
    missing = [k for k in ("clientId", "clientSecret", "tenantId") if not data.get(k)]
    if missing:
        raise TargetError(f"the auth file {path} lacks {', '.join(missing)}")
    ad = data.get("activeDirectoryEndpointUrl")
    return AuthFile(
        client_id=data["clientId"],
        client_secret=data["clientSecret"],
        tenant_id=data["tenantId"],
        subscription_id=data.get("subscriptionId"),
        authority_host=urlparse(ad).netloc if ad else None,
        arm_endpoint=(data.get("resourceManagerEndpointUrl") or ARM_ENDPOINT).rstrip("/"),
    )


def azure_credential(auth: AuthFile | None) -> Any:
    """A token credential for Azure: the auth file's service principal, else the default
    chain (environment, managed identity, Azure CLI...)."""
    if auth is not None:
        from azure.identity import ClientSecretCredential

        kwargs = {"authority": auth.authority_host} if auth.authority_host else {}
        return ClientSecretCredential(auth.tenant_id, auth.client_id, auth.client_secret, **kwargs)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def auth_file_from_env() -> AuthFile | None:
    location = os.environ.get("AZURE_AUTH_LOCATION")
    return read_auth_file(location) if location else None
