"""Stored container groups as ARM returns them (2023-05-01 shapes).

Secure environment values are never returned: only the variable's name is.
"""

from __future__ import annotations

import copy
from typing import Any

RESOURCE_TYPE = "Microsoft.ContainerInstance/containerGroups"
PENDING = ("Pending", "Creating")


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
    for container in props.get("containers", []):
        envs = container.get("properties", {}).get("environmentVariables") or []
        for env in envs:
            env.pop("secureValue", None)


def render(doc: dict[str, Any], *, instance_view: bool) -> dict[str, Any]:
    body = copy.deepcopy(doc["resource"])
    props = body["properties"]
    _strip_secrets(props)
    props.setdefault("restartPolicy", "Always")
    props.setdefault("sku", "Standard")
    props.setdefault("initContainers", [])
    props.setdefault("imageRegistryCredentials", [])
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
        cprops.setdefault("command", [])
        if instance_view:
            cprops["instanceView"] = _container_view(doc, container["name"])
    if instance_view:
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
