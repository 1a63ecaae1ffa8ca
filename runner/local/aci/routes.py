"""The ARM route table for Microsoft.ContainerInstance (werkzeug rules -> handlers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runner.local.aci.handlers import Handlers
from runner.local.arm.request import ACI_OPERATION_VERSIONS, ACI_VERSIONS

PROVIDER = "/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.ContainerInstance"
GROUP = PROVIDER + "/containerGroups/<name>"

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
    (
        "/subscriptions/<sub>/providers/Microsoft.ContainerInstance/locations/<location>"
        "/operations/<op_id>",
        "GET",
        "operation",
        ACI_OPERATION_VERSIONS,
    ),
)


def bind(handlers: Handlers) -> list[tuple[str, str, str, Callable[..., Any], tuple[str, ...]]]:
    """(rule, method, endpoint, view, versions) for each route."""
    return [
        (rule, method, f"aci.{name}", getattr(handlers, name), versions)
        for rule, method, name, versions in ROUTES
    ]
