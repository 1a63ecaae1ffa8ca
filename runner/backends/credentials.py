"""Credentials: a static bearer token for the local target; for Azure,
``DefaultAzureCredential`` or the ``AZURE_AUTH_LOCATION`` SDK auth file the Azure samples
use (``clientId``, ``clientSecret``, ``tenantId``, ``subscriptionId``, endpoints).

Every credential has a ``description``, so that a token that cannot be had, or one a
service refuses, is reported with the credential it came from.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from azure.core.credentials import AccessToken, AccessTokenInfo
from azure.core.exceptions import ClientAuthenticationError

from runner.errors import TargetError

ARM_ENDPOINT = "https://management.azure.com"
PUBLIC_AUTHORITY = "login.microsoftonline.com"
# The authority hosts of Azure's clouds (azure-identity's AzureAuthorityHosts). MSAL asks
# login.microsoftonline.com whether any other host (Azure Stack, the local target) is a
# known authority, which it is not: for those, that instance discovery is turned off.
CLOUD_AUTHORITIES = frozenset(
    {PUBLIC_AUTHORITY, "login.chinacloudapi.cn", "login.microsoftonline.us"}
)


class StaticTokenCredential:
    """The local emulator accepts any bearer token; this one never expires."""

    description = "the local target's static token"

    def __init__(self, token: str = "runner-local-token") -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 24 * 3600)


class NamedCredential:
    """A token credential that names itself when no token can be had from it."""

    def __init__(self, inner: Any, description: str) -> None:
        self.inner = inner
        self.description = description

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        try:
            token: AccessToken = self.inner.get_token(*scopes, **kwargs)
        except ClientAuthenticationError as exc:
            raise self._failed(scopes, exc) from exc
        return token

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        try:
            info: AccessTokenInfo = self.inner.get_token_info(*scopes, options=options)
        except ClientAuthenticationError as exc:
            raise self._failed(scopes, exc) from exc
        return info

    def _failed(self, scopes: tuple[str, ...], exc: ClientAuthenticationError) -> TargetError:
        why = str(exc.message or exc).replace("\r\n", "\n").strip()
        return TargetError(
            f"could not get a token for {' '.join(scopes)} from {self.description}: {why}"
        )


@dataclass(frozen=True)
class AuthFile:
    client_id: str
    client_secret: str
    tenant_id: str
    subscription_id: str | None
    authority_host: str | None
    arm_endpoint: str
    # The resource ARM tokens are asked for, as the samples' get_client_from_auth_file
    # does: activeDirectoryResourceId, else resourceManagerEndpointUrl.
    arm_audience: str
    path: str = ""


def read_auth_file(path: str | Path) -> AuthFile:
    """The file ``az ad sp create-for-rbac --sdk-auth`` writes."""
    try:
        # The samples read it as utf-8-sig: files written on Windows may start with a BOM.
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise TargetError(f"AZURE_AUTH_LOCATION names {path}, which cannot be read: {exc}") from exc
    except ValueError as exc:
        raise TargetError(f"AZURE_AUTH_LOCATION file {path} is not JSON: {exc}") from exc
    missing = [k for k in ("clientId", "clientSecret", "tenantId") if not data.get(k)]
    if missing:
        raise TargetError(f"the auth file {path} lacks {', '.join(missing)}")
    ad = data.get("activeDirectoryEndpointUrl")
    manager = data.get("resourceManagerEndpointUrl") or ARM_ENDPOINT
    return AuthFile(
        client_id=data["clientId"],
        client_secret=data["clientSecret"],
        tenant_id=data["tenantId"],
        subscription_id=data.get("subscriptionId"),
        authority_host=urlparse(ad).netloc if ad else None,
        arm_endpoint=manager.rstrip("/"),
        arm_audience=data.get("activeDirectoryResourceId") or manager,
        path=str(path),
    )


def azure_credential(auth: AuthFile | None) -> NamedCredential:
    """A token credential for Azure: the auth file's service principal, else the default
    chain (environment, managed identity, Azure CLI...)."""
    if auth is not None:
        from azure.identity import ClientSecretCredential

        host = auth.authority_host or _authority_host()
        credential = ClientSecretCredential(
            auth.tenant_id,
            auth.client_id,
            auth.client_secret,
            # A bare host:port would parse as a URL scheme: name the scheme.
            authority=f"https://{host}",
            disable_instance_discovery=host not in CLOUD_AUTHORITIES,
        )
        return NamedCredential(
            credential,
            f"the service principal {auth.client_id} of the auth file {auth.path} "
            f"(AZURE_AUTH_LOCATION; tenant {auth.tenant_id}, authority {host})",
        )
    from azure.identity import DefaultAzureCredential

    host = _authority_host()
    options: dict[str, Any] = {"exclude_interactive_browser_credential": True}
    if host not in CLOUD_AUTHORITIES:
        options["disable_instance_discovery"] = True
    return NamedCredential(DefaultAzureCredential(**options), _default_description(host))


def _authority_host() -> str:
    """The host (and port) of ``AZURE_AUTHORITY_HOST``, which azure-identity reads itself."""
    configured = os.environ.get("AZURE_AUTHORITY_HOST", "").strip().rstrip("/")
    if not configured:
        return PUBLIC_AUTHORITY
    return urlparse(configured).netloc if "://" in configured else configured


def _default_description(host: str) -> str:
    client, tenant = os.environ.get("AZURE_CLIENT_ID"), os.environ.get("AZURE_TENANT_ID")
    if client and tenant and os.environ.get("AZURE_CLIENT_SECRET"):
        return (
            f"DefaultAzureCredential (its EnvironmentCredential: AZURE_CLIENT_ID {client}, "
            f"AZURE_TENANT_ID {tenant}, authority {host})"
        )
    return "DefaultAzureCredential (environment, managed identity, Azure CLI, ...)"


def auth_file_from_env() -> AuthFile | None:
    location = os.environ.get("AZURE_AUTH_LOCATION")
    return read_auth_file(location) if location else None
