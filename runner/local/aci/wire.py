"""Stored container groups as ARM returns them (2023-05-01 shapes).

Secure environment values are never returned: only the variable's name is.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

RESOURCE_TYPE = "Microsoft.ContainerInstance/containerGroups"
PENDING = ("Pending", "Creating")
# The tenant the local target reports for every subscription and identity.
TENANT_ID = "00000000-0000-0000-0000-000000000000"


def group_state(doc: dict[str, Any]) -> str:
    """The group's instanceView.state: Pending, Running, Succeeded, Failed or Stopped."""
    if doc.get("provisioning") in PENDING:
        return "Pending"
    if doc.get("failure"):
        return "Failed"
    if doc.get("stopped"):
        return "Stopped"
    view = doc.get("view")
    if not view:
        return str(doc.get("last_state") or "Pending")
    states = [v.get("currentState", {}) for v in view.values()]
    if any(s.get("state") != "Terminated" for s in states):
        return "Running"
    succeeded = all(s.get("exitCode") == 0 for s in states)
    # Between two restarts the engine shows a container as exited; the group still runs.
    policy = doc["resource"]["properties"].get("restartPolicy", "Always")
    if policy == "Always" or (policy == "OnFailure" and not succeeded):
        return "Running"
    return "Succeeded" if succeeded else "Failed"


def _strip_secrets(props: dict[str, Any]) -> None:
    """Drops what ACI never returns: secure values, registry passwords, secret volume
    contents, storage account keys and the Log Analytics workspace key."""
    for container in [*props.get("containers", []), *(props.get("initContainers") or [])]:
        envs = container.get("properties", {}).get("environmentVariables") or []
        for env in envs:
            env.pop("secureValue", None)
    for credential in props.get("imageRegistryCredentials") or []:
        credential.pop("password", None)
    for volume in props.get("volumes") or []:
        if isinstance(volume.get("secret"), dict):
            volume["secret"] = {}
        if isinstance(volume.get("azureFile"), dict):
            volume["azureFile"].pop("storageAccountKey", None)
    log_analytics = (props.get("diagnostics") or {}).get("logAnalytics")
    if isinstance(log_analytics, dict):
        log_analytics.pop("workspaceKey", None)


def _identity(body: dict[str, Any]) -> None:
    """Azure fills in the ids of the identities it made for the group."""
    identity = body.get("identity")
    if not isinstance(identity, dict):
        return
    kind = str(identity.get("type", ""))
    if "SystemAssigned" in kind:
        identity.setdefault("principalId", str(uuid.uuid5(uuid.NAMESPACE_URL, body["id"])))
        identity.setdefault("tenantId", TENANT_ID)
    for resource_id, assigned in (identity.get("userAssignedIdentities") or {}).items():
        if isinstance(assigned, dict):
            assigned.setdefault("principalId", str(uuid.uuid5(uuid.NAMESPACE_URL, resource_id)))
            assigned.setdefault("clientId", str(uuid.uuid5(uuid.NAMESPACE_DNS, resource_id)))


def render(doc: dict[str, Any], *, instance_view: bool, group_view: bool | None = None
           ) -> dict[str, Any]:
    """The group as ARM returns it. ``instance_view``: the group's and containers' views
    (GET); ``group_view``: only the group's (a PUT's answer; defaults to ``instance_view``).
    Lists carry neither. Fields the client did not send stay absent, as in Azure, except the
    ones ACI fills in (sku, initContainers, restartPolicy, ports, environmentVariables)."""
    body = copy.deepcopy(doc["resource"])
    props = body["properties"]
    _strip_secrets(props)
    _identity(body)
    props.setdefault("sku", "Standard")
    props.setdefault("initContainers", [])
    props.setdefault("restartPolicy", "Always")
    props["provisioningState"] = doc.get("provisioning", "Pending")
    ip = props.get("ipAddress")
    if ip:
        ip.setdefault("ip", "127.0.0.1")
        if ip.get("dnsNameLabel"):
            ip["fqdn"] = f"{ip['dnsNameLabel']}.{body['location']}.azurecontainer.io"
    for container in props.get("containers", []):
        cprops = container["properties"]
        cprops.setdefault("ports", [])
        cprops.setdefault("environmentVariables", [])
        if instance_view:
            cprops["instanceView"] = _container_view(doc, container["name"])
    if instance_view if group_view is None else group_view:
        props["instanceView"] = {"events": [], "state": group_state(doc)}
    return body


def _container_view(doc: dict[str, Any], name: str) -> dict[str, Any]:
    observed = (doc.get("view") or {}).get(name)
    events = (doc.get("events") or {}).get(name, [])
    if observed is None:
        detail = "ErrImagePull" if doc.get("failure") else ""
        observed = {"restartCount": 0, "currentState": {"state": "Waiting",
                                                         "detailStatus": detail}}
    return {**observed, "events": events}


def stopped(doc: dict[str, Any], now: str) -> dict[str, Any]:
    """The group after ``stop``: its containers are gone, their last view says so."""
    doc["stopped"], doc["generation"] = True, doc["generation"] + 1
    if doc["provisioning"] == "Pending":
        doc["provisioning"] = "Succeeded"
    for name, view in (doc.get("view") or {}).items():
        current = view["currentState"]
        if current.get("state") != "Terminated":
            view["currentState"] = {"state": "Terminated", "startTime": current.get("startTime"),
                                    "finishTime": now, "exitCode": 0, "detailStatus": "Stopped"}
        doc.setdefault("events", {}).setdefault(name, []).append(
            {"count": 1, "firstTimestamp": now, "lastTimestamp": now, "name": "Killing",
             "message": f"Killing container {name}", "type": "Normal"})
    return doc
