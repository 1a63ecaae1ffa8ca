"""Microsoft.ContainerInstance's provider-level reads: operations, usages, capabilities,
cached images; and the container calls that hand out a terminal (exec, attach).

Shapes from ``containerInstance.json`` 2023-05-01 and its examples (OperationsList,
ContainerGroupUsage, CapabilitiesList, ContainerExec).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Response, request

from runner.local.aci import model
from runner.local.aci.errors import aci_error
from runner.local.aci.state import ContainerGroups
from runner.local.arm.providers import display_name
from runner.local.arm.request import empty_response, json_response, paged, request_json

PROVIDER = "Microsoft Container Instance"
# (name, resource, operation, description) of what the provider exposes to RBAC.
_OPERATIONS = (
    (
        "containerGroups/read",
        "Container Group",
        "Get Container Groups",
        "Get all container groups.",
    ),
    (
        "containerGroups/write",
        "Container Group",
        "Create or Update Container Group",
        "Create or update a specific container group.",
    ),
    (
        "containerGroups/delete",
        "Container Group",
        "Delete Container Group",
        "Delete the specific container group.",
    ),
    (
        "containerGroups/start/action",
        "Container Group",
        "Start Container Group",
        "Starts a specific container group.",
    ),
    (
        "containerGroups/stop/action",
        "Container Group",
        "Stop Container Group",
        "Stops a specific container group. Compute resources will be deallocated and billing "
        "will stop.",
    ),
    (
        "containerGroups/restart/action",
        "Container Group",
        "Restart Container Group",
        "Restarts a specific container group.",
    ),
    (
        "containerGroups/containers/logs/read",
        "Container",
        "Get container logs",
        "Get logs for a specific container.",
    ),
    (
        "containerGroups/containers/exec/action",
        "Container",
        "Container Exec",
        "Exec into a specific container.",
    ),
    (
        "containerGroups/containers/attach/action",
        "Container",
        "Container Attach",
        "Attach to the output stream of a container.",
    ),
    (
        "containerGroups/outboundNetworkDependenciesEndpoints/read",
        "Container Group",
        "List outbound network dependencies endpoints",
        "List the outbound network dependencies endpoints of a container group.",
    ),
    ("locations/usages/read", "Usage", "Get Usage", "Get the usage for a specific location."),
    (
        "locations/capabilities/read",
        "Capabilities",
        "Get Capabilities",
        "Get the capabilities for a region.",
    ),
    (
        "locations/cachedImages/read",
        "Cached Images",
        "Get Cached Images",
        "Get cached images for a region.",
    ),
    (
        "locations/operations/read",
        "Operation",
        "Get async operation",
        "Get the status of an asynchronous operation.",
    ),
    (
        "operations/read",
        "Operation",
        "List Operations",
        "List the operations for Azure Container Instance service.",
    ),
    (
        "register/action",
        "Container Group",
        "Register Subscription",
        "Registers the subscription for the container instance resource provider and enables "
        "the creation of container groups.",
    ),
)


def operations() -> list[dict[str, Any]]:
    return [
        {
            "name": f"Microsoft.ContainerInstance/{name}",
            "display": {
                "provider": PROVIDER,
                "resource": resource,
                "operation": operation,
                "description": description,
            },
            "origin": "User",
        }
        for name, resource, operation, description in _OPERATIONS
    ]


def capabilities(location: str) -> list[dict[str, Any]]:
    return [
        {
            "resourceType": "containerGroups",
            "osType": os_type,
            "location": display_name(location),
            "ipAddressType": ip_type,
            "gpu": "None",
            "capabilities": {
                "maxMemoryInGB": model.MAX_MEMORY_GB,
                "maxCpu": model.MAX_CPU,
                "maxGpuCount": 0,
            },
        }
        for ip_type in ("Public", "Private")
        for os_type in model.OS_TYPES
    ]


class LocationHandlers:
    def __init__(self, groups: ContainerGroups) -> None:
        self.groups = groups

    def operations(self) -> Response:
        return json_response(paged(operations()))

    def usages(self, sub: str, location: str) -> Response:
        here = location.replace(" ", "").lower()
        groups = [g for g in self.groups.list(sub) if g["location"] == here]
        cores = sum(
            float(c["properties"]["resources"]["requests"]["cpu"])
            for g in groups
            for c in g["properties"]["containers"]
        )
        base = f"/subscriptions/{sub}/providers/Microsoft.ContainerInstance/locations/{here}"
        usages = [
            ("ContainerGroups", "Container Groups", len(groups), 100),
            ("StandardCores", "Standard Cores", int(cores), 100),
        ]
        return json_response(
            {
                "value": [
                    {
                        "id": f"{base}/usages/{name}",
                        "unit": "Count",
                        "currentValue": current,
                        "limit": limit,
                        "name": {"value": name, "localizedValue": display},
                    }
                    for name, display, current, limit in usages
                ]
            }
        )

    def capabilities(self, sub: str, location: str) -> Response:
        return json_response(paged(capabilities(location.replace(" ", "").lower())))

    def cached_images(self, sub: str, location: str) -> Response:
        # Nothing is pre-pulled on the local engine the way ACI caches common base images.
        return json_response(paged([]))

    def outbound_endpoints(self, sub: str, rg: str, name: str) -> Response:
        self.groups.get(sub, rg, name)
        return json_response([])

    def _terminal(self, sub: str, rg: str, name: str, container: str, verb: str) -> Response:
        group = self.groups.get(sub, rg, name)
        if container not in [c["name"] for c in group["properties"]["containers"]]:
            raise aci_error("ContainerNotFound", container=container, name=name)
        host = request.host_url.replace("https://", "wss://").rstrip("/")
        token = secrets.token_hex(8)
        uri = f"{host}/_runner/{verb}/{group['location']}/{token}"
        if verb == "exec":
            size = request_json().get("terminalSize") or {}
            uri += f"?rows={size.get('rows', 24)}&cols={size.get('cols', 80)}"
        return json_response({"webSocketUri": uri, "password": secrets.token_urlsafe(32)})

    def delete_subnet_link(self, sub: str, rg: str, vnet: str, subnet: str) -> Response:
        # No virtual network is served, so no subnet holds a link: "204 No Content - the
        # specified container group was not found" (SubnetServiceAssociationLink_Delete).
        self.groups.resource_groups.require(sub, rg)
        return empty_response(204)

    def exec(self, sub: str, rg: str, name: str, container: str) -> Response:
        return self._terminal(sub, rg, name, container, "exec")

    def attach(self, sub: str, rg: str, name: str, container: str) -> Response:
        return self._terminal(sub, rg, name, container, "attach")
