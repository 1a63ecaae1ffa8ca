"""What ARM checks on every request before a provider sees it: path case, bearer token,
api-version; and the JSON answers and paging every handler shares."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from flask import Response, request

from runner.local.arm.errors import ArmError, arm_error
from runner.local.identity import (
    ARM_AUDIENCES,
    Identity,
    TokenRejected,
    azure_time,
    is_jwt,
)

# ARM accepts every api-version a provider has registered. Microsoft.ContainerInstance's, as
# ARM lists them in its NoRegisteredProviderFound answers, plus the later ones of the REST
# specs (answers use the 2023-05-01 shapes). Operation-status URLs of ACI carry 2018-06-01.
ACI_VERSIONS = (
    "2017-08-01-preview",
    "2017-10-01-preview",
    "2017-12-01-preview",
    "2018-02-01-preview",
    "2018-04-01",
    "2018-06-01",
    "2018-07-01",
    "2018-09-01",
    "2018-10-01",
    "2019-12-01",
    "2020-11-01",
    "2021-03-01",
    "2021-07-01",
    "2021-09-01",
    "2021-10-01",
    "2022-04-01-preview",
    "2022-09-01",
    "2022-10-01-preview",
    "2023-02-01-preview",
    "2023-05-01",
    "2024-05-01-preview",
    "2024-10-01-preview",
    "2024-11-01-preview",
    "2025-09-01",
)
ACI_OPERATION_VERSIONS = ACI_VERSIONS
# The regions ARM names in its NoRegisteredProviderFound answers for containerGroups, with
# the display names ARM lists them by.
REGIONS = {
    "westcentralus": "West Central US",
    "westus": "West US",
    "eastus": "East US",
    "westeurope": "West Europe",
    "westus2": "West US 2",
    "northeurope": "North Europe",
    "southeastasia": "Southeast Asia",
    "eastus2": "East US 2",
    "centralus": "Central US",
    "australiaeast": "Australia East",
    "uksouth": "UK South",
    "southcentralus": "South Central US",
    "centralindia": "Central India",
    "brazilsouth": "Brazil South",
    "southindia": "South India",
    "northcentralus": "North Central US",
    "eastasia": "East Asia",
    "canadacentral": "Canada Central",
    "japaneast": "Japan East",
    "koreacentral": "Korea Central",
    "francecentral": "France Central",
    "switzerlandnorth": "Switzerland North",
    "germanywestcentral": "Germany West Central",
    "uaenorth": "UAE North",
}
ACI_LOCATIONS = tuple(REGIONS)
RESOURCES_VERSIONS = (
    "2015-11-01",
    "2016-02-01",
    "2016-06-01",
    "2016-07-01",
    "2016-09-01",
    "2017-05-10",
    "2018-02-01",
    "2018-05-01",
    "2019-03-01",
    "2019-05-01",
    "2019-05-10",
    "2019-07-01",
    "2019-08-01",
    "2019-10-01",
    "2020-06-01",
    "2020-08-01",
    "2020-10-01",
    "2021-01-01",
    "2021-04-01",
    "2022-09-01",
    "2023-07-01",
    "2024-03-01",
    "2024-07-01",
    "2024-11-01",
    "2025-01-01",
    "2025-03-01",
    "2025-04-01",
)

# Segments whose next segment is a name (kept as sent); every other known segment is
# matched case-insensitively, as ARM does.
_NAME_PARENTS = {
    "subscriptions",
    "resourcegroups",
    "containergroups",
    "containers",
    "locations",
    "operations",
    "operationresults",
    "virtualnetworks",
    "subnets",
}
_CANONICAL = {
    s.lower(): s
    for s in (
        "subscriptions",
        "resourceGroups",
        "providers",
        "Microsoft.ContainerInstance",
        "Microsoft.Resources",
        "containerGroups",
        "containers",
        "locations",
        "operations",
        "operationresults",
        "logs",
        "start",
        "stop",
        "restart",
        "exec",
        "attach",
        "usages",
        "capabilities",
        "cachedImages",
        "outboundNetworkDependenciesEndpoints",
        "register",
        "unregister",
        "resources",
        "Microsoft.Network",
        "virtualNetworks",
        "subnets",
        "serviceAssociationLinks",
    )
}


def canonical_path(path: str) -> str:
    parts = path.split("/")
    for i, part in enumerate(parts):
        if i > 0 and parts[i - 1].lower() in _NAME_PARENTS:
            continue
        parts[i] = _CANONICAL.get(part.lower(), part)
    return "/".join(parts)


class CanonicalPaths:
    """WSGI middleware: ``/resourcegroups/`` and ``/resourceGroups/`` reach the same route."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_runner"):
            environ["PATH_INFO"] = canonical_path(path)
        return self.app(environ, start_response)


def check_bearer(identity: Identity | None) -> None:
    """A bearer token must be there; one that is a JWT is checked as ``identity``'s, the
    identity platform's (any other is the local target's own credential)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise arm_error("AuthenticationFailed")
    if identity is None or not is_jwt(token.strip()):
        return
    try:
        identity.check(token.strip(), ARM_AUDIENCES)
    except TokenRejected as rejected:
        if rejected.reason == "audience":
            raise arm_error(
                "InvalidAuthenticationTokenAudience", audience=rejected.audience
            ) from None
        if rejected.reason == "expired":
            raise arm_error(
                "ExpiredAuthenticationToken",
                expiry=azure_time(rejected.expiry),
                now=azure_time(rejected.now),
            ) from None
        raise arm_error("InvalidAuthenticationToken") from None


def unauthorized_response(error: ArmError, identity: Identity | None) -> Response:
    response = json_response(error.body(), error.status)
    if error.code == "AuthenticationFailed" or identity is None:
        response.headers["WWW-Authenticate"] = (
            'Bearer authorization_uri="https://login.microsoftonline.com/common", '
            'error="invalid_token", error_description="The authentication failed because of '
            "missing 'Authorization' header.\""
        )
    else:
        # Names the authority whose tokens this ARM takes: the local identity platform.
        response.headers["WWW-Authenticate"] = (
            f'Bearer authorization_uri="{identity.authority}/{identity.tenant}", '
            f'error="invalid_token", error_description="{error.message}"'
        )
    response.headers["x-ms-failure-cause"] = "gateway"
    return response


def check_api_version(
    supported: Iterable[str],
    resource_type: str,
    location: str = "",
    locations: Iterable[str] = ACI_LOCATIONS,
    code: str = "NoRegisteredProviderFound",
) -> str:
    """The request's api-version. A provider's unknown one is NoRegisteredProviderFound;
    ARM's own types (resource groups, subscriptions) answer InvalidApiVersionParameter."""
    version = request.args.get("api-version")
    if not version:
        raise arm_error("MissingApiVersionParameter")
    versions = tuple(supported)
    if version not in versions and code == "InvalidApiVersionParameter":
        raise arm_error(code, version=version, supported=",".join(sorted(versions, reverse=True)))
    if version not in versions:
        raise arm_error(
            "NoRegisteredProviderFound",
            location=location or _body_location() or "westus",
            version=version,
            type=resource_type,
            supported=", ".join(versions),
            locations=", ".join(locations),
        )
    return version


def _body_location() -> str:
    """The location a PUT names, which ARM quotes when it rejects the api-version."""
    if request.method not in ("PUT", "PATCH"):
        return ""
    body = request.get_json(silent=True)
    location = body.get("location") if isinstance(body, dict) else None
    return str(location).replace(" ", "").lower() if location else ""


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        headers=headers or {},
        content_type="application/json; charset=utf-8",
    )


def empty_response(status: int, headers: dict[str, str] | None = None) -> Response:
    response = Response(b"", status=status, headers=headers or {})
    # ARM sends no Content-Type with an empty answer (Flask would say text/html).
    del response.headers["Content-Type"]
    return response


def request_json() -> dict[str, Any]:
    raw = request.get_data(as_text=True)
    try:
        body = json.loads(raw) if raw else None
    except ValueError as exc:
        raise arm_error("InvalidRequestContent", detail=str(exc)) from None
    if not isinstance(body, dict):
        raise arm_error("InvalidRequestContent", detail="the body must be a JSON object")
    return body


PAGE_SIZE = 100


def paged(items: list[Any]) -> dict[str, Any]:
    """One page of ``items`` from ``$skiptoken``, with ``nextLink`` when more remain."""
    try:
        start = max(0, int(request.args.get("$skiptoken", "0")))
    except ValueError:
        start = 0
    page_size = PAGE_SIZE
    top = request.args.get("$top")
    if top and top.isdigit():
        page_size = max(1, min(PAGE_SIZE, int(top)))
    page: dict[str, Any] = {"value": items[start : start + page_size]}
    if start + page_size < len(items):
        args = request.args.to_dict()
        args["$skiptoken"] = str(start + page_size)
        page["nextLink"] = f"{request.host_url.rstrip('/')}{request.path}?{urlencode(args)}"
    return page
