"""``Target``: hands out SDK clients configured for one place (endpoint, credential, TLS
trust). Nothing above ``backends/`` knows whether it talks to Azure or the local target.

SDK retries are off for ARM and small for Batch and Blob: the engine retries, so request
counts stay bounded and every retry is visible as an event. A connection to the local
target that fails because it is not running is no failure to retry: it is a ``TargetError``
at once, and so is a credential a service refuses, named with the service.

Where the azure target's endpoints are not Azure's public ones (a sovereign cloud, Azure
Stack, or the local target posing as Azure), the environment says: ``AZURE_AUTHORITY_HOST``
(azure-identity's own), ``RUNNER_AZURE_ARM_ENDPOINT`` and ``RUNNER_AZURE_ARM_AUDIENCE``
(the resource ARM tokens are for), ``AZURE_BATCH_ACCOUNT_URL``, ``RUNNER_AZURE_BLOB_ENDPOINT``
(``{account}`` stands for the storage account).
"""

from __future__ import annotations

import json
import os
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runner.backends import local_target as local_client
from runner.backends.credentials import (
    ARM_ENDPOINT,
    StaticTokenCredential,
    auth_file_from_env,
    azure_credential,
)
from runner.errors import TargetError

if TYPE_CHECKING:
    from requests import Response
    from requests.adapters import HTTPAdapter

TARGETS = ("local", "azure")
ARM_ENDPOINT_ENV = "RUNNER_AZURE_ARM_ENDPOINT"
ARM_AUDIENCE_ENV = "RUNNER_AZURE_ARM_AUDIENCE"
BLOB_ENDPOINT_ENV = "RUNNER_AZURE_BLOB_ENDPOINT"
PUBLIC_BLOB_ENDPOINT = "https://{account}.blob.core.windows.net"
# 403 codes that refuse the credential itself (bad key or signature), not its permissions.
REFUSED_403 = frozenset(
    {"AuthenticationFailed", "AuthorizationFailure", "InvalidAuthenticationInfo"}
)
POOL_SIZE = 64  # the engine runs up to 64 operations at once, each may poll
DATA_PLANE_RETRIES = {"retry_total": 3, "retry_backoff_factor": 0.3, "retry_backoff_max": 4}
# Storage clients ignore the backoff settings above: their ExponentialRetry waits
# initial_backoff + increment_base**n with 15 s and 3 by default, so one 503 or dropped
# connection stalled a run for 18 s. These wait about 2.5, 4.5 and 8.5 s.
BLOB_RETRIES = {
    **DATA_PLANE_RETRIES,
    "initial_backoff": 0.5,
    "increment_base": 2,
    "random_jitter_range": 0.5,
}


@dataclass
class Target:
    name: str
    arm_endpoint: str
    default_subscription: str | None
    verify: str | bool = True
    credential_factory: Callable[[], Any] = StaticTokenCredential
    batch: Mapping[str, str] = field(default_factory=dict)  # url, account, key
    storage: Mapping[str, str] = field(default_factory=dict)  # connection_string, ...
    # The resource ARM tokens are asked for; the endpoint itself when None.
    arm_audience: str | None = None
    blob_endpoint: str = PUBLIC_BLOB_ENDPOINT
    # For a URL a connection to failed: why the target is down, or None when it runs.
    unreachable: Callable[[str], str | None] | None = None
    _clients: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _credential: Any = field(default=None, repr=False)

    # --- configuration ----------------------------------------------------------

    def subscription_for(self, spec_subscription: str | None) -> str:
        subscription = spec_subscription or self.default_subscription
        if not subscription:
            raise TargetError(
                "no Azure subscription: set `subscription:` in the spec, AZURE_SUBSCRIPTION_ID, "
                "or subscriptionId in the AZURE_AUTH_LOCATION file"
            )
        return subscription

    def credential(self) -> Any:
        with self._lock:
            if self._credential is None:
                self._credential = self.credential_factory()
            return self._credential

    def _cached(self, key: tuple[str, ...], make: Callable[[], Any]) -> Any:
        with self._lock:
            client = self._clients.get(key)
        if client is None:
            client = make()
            with self._lock:
                client = self._clients.setdefault(key, client)
        return client

    def _common(
        self, service: str, credential: str, retries: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Client options; ``service`` and ``credential`` name what refused what."""
        from azure.core.pipeline.transport import RequestsTransport
        from requests import Session

        session = Session()
        adapter = _adapter(self.unreachable, service, credential)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        kwargs: dict[str, Any] = dict(retries or {"retry_total": 0})
        # A transport given to a client keeps its own TLS settings: trust goes here.
        kwargs["transport"] = RequestsTransport(
            session=session, session_owner=True, connection_verify=self.verify
        )
        kwargs["connection_verify"] = self.verify
        return kwargs

    def _token_description(self) -> str:
        return str(getattr(self.credential(), "description", "the token credential"))

    def _arm_kwargs(self) -> dict[str, Any]:
        scope = (self.arm_audience or self.arm_endpoint.rstrip("/")) + "/.default"
        kwargs = self._common("ARM", f"the token for {scope} from {self._token_description()}")
        kwargs["base_url"] = self.arm_endpoint
        kwargs["credential_scopes"] = [scope]
        # Polls are driven by the engine, never by an SDK poller.
        kwargs["polling_interval"] = 1
        return kwargs

    # --- clients ------------------------------------------------------------------

    def resource_client(self, subscription: str) -> Any:
        def make() -> Any:
            from azure.mgmt.resource.resources import ResourceManagementClient

            return ResourceManagementClient(self.credential(), subscription, **self._arm_kwargs())

        return self._cached(("resources", subscription), make)

    def aci_client(self, subscription: str) -> Any:
        def make() -> Any:
            from azure.mgmt.containerinstance import ContainerInstanceManagementClient

            return ContainerInstanceManagementClient(
                self.credential(), subscription, **self._arm_kwargs()
            )

        return self._cached(("aci", subscription), make)

    def batch_client(self, account: str, url: str | None = None) -> Any:
        def make() -> Any:
            from azure.batch import BatchClient

            endpoint = url or self.batch.get("url") or os.environ.get("AZURE_BATCH_ACCOUNT_URL")
            if not endpoint:
                raise TargetError(
                    f"no Batch account URL for {account!r}: set `batch.url` in the spec or "
                    "AZURE_BATCH_ACCOUNT_URL"
                )
            key = self.batch.get("key") or _env("AZURE_BATCH_ACCOUNT_KEY", "AZURE_BATCH_ACCESS_KEY")
            name = (
                self.batch.get("account")
                or _env("AZURE_BATCH_ACCOUNT_NAME", "AZURE_BATCH_ACCOUNT")
                or account
            )
            credential: Any
            if key:
                from azure.core.credentials import AzureNamedKeyCredential

                credential = AzureNamedKeyCredential(name, key)
                what = f"the shared key of Batch account {name}"
            else:
                credential = self.credential()
                what = f"the Entra token from {self._token_description()}"
            return BatchClient(
                endpoint, credential, **self._common("Batch", what, DATA_PLANE_RETRIES)
            )

        return self._cached(("batch", account, url or ""), make)

    def blob_service(self, account: str) -> Any:
        def make() -> Any:
            from azure.storage.blob import BlobServiceClient

            conn = self.storage.get("connection_string") or os.environ.get(
                "AZURE_STORAGE_CONNECTION_STRING"
            )
            if conn:
                what = "the account key of the storage connection string"
                options = self._common("Blob storage", what, BLOB_RETRIES)
                return BlobServiceClient.from_connection_string(conn, **options)
            if self.name == "local":
                raise TargetError("the local target reported no storage connection string")
            what = f"the Entra token from {self._token_description()}"
            return BlobServiceClient(
                self.blob_endpoint.replace("{account}", account),
                credential=self.credential(),
                **self._common("Blob storage", what, BLOB_RETRIES),
            )

        return self._cached(("blob", account), make)

    def storage_account_key(self, account: str) -> str | None:
        """The account key for SAS signing; None when Storage is reached with a token (user
        delegation SAS then)."""
        conn = self.storage.get("connection_string") or os.environ.get(
            "AZURE_STORAGE_CONNECTION_STRING"
        )
        if conn:
            parts = dict(p.split("=", 1) for p in conn.split(";") if "=" in p)
            return parts.get("AccountKey")
        return os.environ.get("AZURE_STORAGE_KEY") or None


def _adapter(
    unreachable: Callable[[str], str | None] | None, service: str, credential: str
) -> HTTPAdapter:
    import requests
    from requests.adapters import HTTPAdapter

    challenged = threading.local()

    class TargetAdapter(HTTPAdapter):
        """Below the SDKs' retry policies, so that a target known to be down costs no
        retries (nothing will listen at its endpoints until it is started again), and a
        refused credential none either: the next try would send the same one."""

        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                response = super().send(request, *args, **kwargs)
            except requests.exceptions.ConnectionError as exc:
                # Refused, or reset on a kept-alive connection by a process that died: if
                # the target is down, say so; if it runs, the SDK and the engine retry.
                why = unreachable(request.url or "") if unreachable else None
                if why:
                    raise TargetError(why) from exc
                raise
            refusal = _refusal(response)
            key = f"{request.method} {request.url}"
            if refusal is None:
                challenged.key = None
                return response
            # A challenge the SDK answers with a new token (claims, Storage's resource_id)
            # is its to follow, once: a second refusal of the same request stops here.
            if _followed_challenge(response) and getattr(challenged, "key", None) != key:
                challenged.key = key
                return response
            challenged.key = None
            origin = "/".join((request.url or "").split("/")[:3])
            raise TargetError(f"{service} at {origin} refused {credential}: {refusal}")

    return TargetAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)


def _refusal(response: Response) -> str | None:
    """``<status> <code>: <message>`` when ``response`` refuses the request's credential."""
    if response.status_code not in (401, 403):
        return None
    code, message = _error_of(response)
    if response.status_code == 403 and code not in REFUSED_403:
        return None
    return f"{response.status_code} {code or 'Unauthorized'}: {message}".rstrip(": ")


def _error_of(response: Response) -> tuple[str, str]:
    """Code and message from ARM's, Batch's or Storage's error body (and the detail of why
    authentication failed, where the service gives one)."""
    code = response.headers.get("x-ms-error-code", "")
    text = response.text or ""
    detail = ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            code = str(error.get("code") or code)
            message = error.get("message", "")
            if isinstance(message, dict):  # Batch: {"lang", "value"}
                message = message.get("value", "")
            values = body.get("values") or []
            detail = next(
                (
                    str(v.get("value"))
                    for v in values
                    if v.get("key") == "AuthenticationErrorDetail"
                ),
                "",
            )
            return code, _join(str(message), detail)
    if text.lstrip().startswith("<"):
        try:
            root = ET.fromstring(text.lstrip("\ufeff"))
        except ET.ParseError:
            return code, ""
        return (
            root.findtext("Code") or code,
            _join(root.findtext("Message") or "", root.findtext("AuthenticationErrorDetail") or ""),
        )
    return code, ""


def _join(message: str, detail: str) -> str:
    """The message's first line (Batch and Storage append request ids and times)."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return f"{first} {detail.strip()}".strip()


def _followed_challenge(response: Response) -> bool:
    challenge = response.headers.get("WWW-Authenticate", "")
    return response.status_code == 401 and (
        "insufficient_claims" in challenge or "resource_id" in challenge
    )


def _env(*names: str) -> str | None:
    """The first of ``names`` set in the environment (the samples spell some two ways)."""
    return next((os.environ[n] for n in names if os.environ.get(n)), None)


def local_target(status: Mapping[str, Any]) -> Target:
    """A target aimed at a running local emulator, from its status dict."""
    described = dict(status)
    return Target(
        name="local",
        arm_endpoint=status["arm"]["endpoint"].rstrip("/"),
        default_subscription=status["arm"]["subscription"],
        verify=status["ca_bundle"],
        credential_factory=StaticTokenCredential,
        batch=dict(status.get("batch") or {}),
        storage=dict(status.get("storage") or {}),
        unreachable=lambda url: local_client.unreachable(described, url),
    )


def azure_target() -> Target:
    """Azure's public cloud, or the endpoints the environment and the auth file name. TLS
    trust is the system's (``REQUESTS_CA_BUNDLE`` replaces it, as for any requests user)."""
    auth = auth_file_from_env()
    subscription = os.environ.get("AZURE_SUBSCRIPTION_ID") or (
        auth.subscription_id if auth else None
    )
    endpoint = os.environ.get(ARM_ENDPOINT_ENV) or (auth.arm_endpoint if auth else ARM_ENDPOINT)
    audience = os.environ.get(ARM_AUDIENCE_ENV) or (auth.arm_audience if auth else None)
    return Target(
        name="azure",
        arm_endpoint=endpoint.rstrip("/"),
        default_subscription=subscription,
        verify=True,
        credential_factory=lambda: azure_credential(auth),
        arm_audience=audience,
        blob_endpoint=os.environ.get(BLOB_ENDPOINT_ENV) or PUBLIC_BLOB_ENDPOINT,
    )


def get_target(name: str | None = None) -> Target:
    chosen = name or os.environ.get("RUNNER_TARGET") or "local"
    if chosen == "local":
        return local_target(local_client.ensure_up())
    if chosen == "azure":
        return azure_target()
    raise TargetError(f"unknown target {chosen!r}: expected one of {', '.join(TARGETS)}")
