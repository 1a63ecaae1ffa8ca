"""The ARM route table for Microsoft.ContainerInstance (werkzeug rules -> handlers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runner.local.aci.handlers import Handlers
from runner.local.aci.location import LocationHandlers
from runner.local.arm.request import ACI_OPERATION_VERSIONS, ACI_VERSIONS

PROVIDER = "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ContainerInstance"
GROUP = PROVIDER + "/containerGroups/<name>"
LOCATION = "/subscriptions/<sub>/providers/Microsoft.ContainerInstance/locations/<location>"

# (rule, method, handler name, supported api-versions)
ROUTES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (GROUP, "PUT", "put", ACI_VERSIONS),
    (GROUP, "PATCH", "patch", ACI_VERSIONS),
    (GROUP, "GET", "get", ACI_VERSIONS),
    (GROUP, "DELETE", "delete", ACI_VERSIONS),
    (GROUP + "/start", "POST", "start", ACI_VERSIONS),
    (GROUP + "/stop", "POST", "stop", ACI_VERSIONS),
    (GROUP + "/restart", "POST", "restart", ACI_VERSIONS),
    (GROUP + "/containers/<container>/logs", "GET", "logs", ACI_VERSIONS),
    (PROVIDER + "/containerGroups", "GET", "list_in_group", ACI_VERSIONS),
    (
        "/subscriptions/<sub>/providers/Microsoft.ContainerInstance/containerGroups",
        "GET",
        "list_in_subscription",
        ACI_VERSIONS,
    ),
    (LOCATION + "/operations/<op_id>", "GET", "operation", ACI_OPERATION_VERSIONS),
)
# Served by ``LocationHandlers``.
LOCATION_ROUTES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("/providers/Microsoft.ContainerInstance/operations", "GET", "operations", ACI_VERSIONS),
    (LOCATION + "/usages", "GET", "usages", ACI_VERSIONS),
    (LOCATION + "/capabilities", "GET", "capabilities", ACI_VERSIONS),
    (LOCATION + "/cachedImages", "GET", "cached_images", ACI_VERSIONS),
    (GROUP + "/outboundNetworkDependenciesEndpoints", "GET", "outbound_endpoints", ACI_VERSIONS),
    (GROUP + "/containers/<container>/exec", "POST", "exec", ACI_VERSIONS),
    (GROUP + "/containers/<container>/attach", "POST", "attach", ACI_VERSIONS),
    (
        "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/"
        "<vnet>/subnets/<subnet>/providers/Microsoft.ContainerInstance/serviceAssociationLinks/"
        "default",
        "DELETE",
        "delete_subnet_link",
        ACI_VERSIONS,
    ),
)


def bind(
    handlers: Handlers, location: LocationHandlers
) -> list[tuple[str, str, str, Callable[..., Any], tuple[str, ...]]]:
    """(rule, method, endpoint, view, versions) for each route."""
    return [
        (rule, method, f"aci.{name}", getattr(target, name), versions)
        for table, target in ((ROUTES, handlers), (LOCATION_ROUTES, location))
        for rule, method, name, versions in table
    ]
