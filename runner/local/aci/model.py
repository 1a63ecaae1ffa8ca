"""Container-group bodies: validation, the fields that force a replace, runtime definitions.

Rules follow ACI: group and container names (1-63 of lowercase letters, digits and '-',
not starting or ending with '-'), unique container names, at most 60 containers, ports
1-65535 unique across the group, a DNS name label only with a public IP address.
"""

from __future__ import annotations

import re
from typing import Any

from runner.local.aci.errors import aci_error
from runner.local.aci.runtime import ContainerDefinition, GroupDefinition
from runner.local.arm.errors import arm_error

NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
MAX_CONTAINERS = 60
MAX_CPU = 4.0
MAX_MEMORY_GB = 16.0
OS_TYPES = ("Linux", "Windows")
RESTART_POLICIES = ("Always", "OnFailure", "Never")


def _require(value: Any, field: str) -> Any:
    if value is None or value == "" or value == []:
        raise aci_error("MissingRequiredProperty", field=field)
    return value


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise aci_error("InvalidRequestContent", detail=f"'{field}' must be a number")
    return float(value)


def validate(name: str, body: dict[str, Any]) -> None:
    """Raises the ARM error ACI answers for an invalid PUT body."""
    if not NAME.match(name):
        raise aci_error("InvalidContainerGroupName", name=name)
    if not body.get("location"):
        raise arm_error("LocationRequired")
    props = body.get("properties")
    if not isinstance(props, dict):
        raise aci_error("MissingRequiredProperty", field="properties")
    os_type = _require(props.get("osType"), "properties.osType")
    if os_type not in OS_TYPES:
        raise aci_error("InvalidOsType", value=os_type)
    policy = props.get("restartPolicy", "Always")
    if policy not in RESTART_POLICIES:
        raise aci_error("InvalidRestartPolicy", value=policy)
    containers = _require(props.get("containers"), "properties.containers")
    if not isinstance(containers, list):
        raise aci_error("InvalidRequestContent", detail="'properties.containers' must be a list")
    if len(containers) > MAX_CONTAINERS:
        raise aci_error(
            "ContainerGroupQuotaReached", name=name, count=len(containers), limit=MAX_CONTAINERS
        )
    seen: set[str] = set()
    ports: set[int] = set()
    for i, container in enumerate(containers):
        _validate_container(name, i, container, seen, ports)
    ip = props.get("ipAddress") or {}
    for port in ip.get("ports") or []:
        _port(port.get("port"))
    if ip.get("dnsNameLabel") and ip.get("type") != "Public":
        raise aci_error("InvalidDnsNameLabel", value=ip["dnsNameLabel"])


def _validate_container(
    group: str, i: int, container: Any, seen: set[str], ports: set[int]
) -> None:
    where = f"properties.containers[{i}]"
    if not isinstance(container, dict):
        raise aci_error("InvalidRequestContent", detail=f"'{where}' must be an object")
    cname = _require(container.get("name"), f"{where}.name")
    if not NAME.match(str(cname)):
        raise aci_error("InvalidContainerName", container=cname, name=group)
    if cname in seen:
        raise aci_error("DuplicateContainerNames", name=group, container=cname)
    seen.add(cname)
    cprops = _require(container.get("properties"), f"{where}.properties")
    _require(cprops.get("image"), f"{where}.properties.image")
    requests = _require(
        (cprops.get("resources") or {}).get("requests"), f"{where}.properties.resources.requests"
    )
    cpu = _number(
        _require(requests.get("cpu"), f"{where}.properties.resources.requests.cpu"), "cpu"
    )
    memory = _number(
        _require(requests.get("memoryInGB"), f"{where}.properties.resources.requests.memoryInGB"),
        "memoryInGB",
    )
    if not (0 < cpu <= MAX_CPU and 0 < memory <= MAX_MEMORY_GB):
        raise aci_error(
            "ResourceRequestsNotSupported",
            container=cname,
            detail=f"cpu {cpu:g}, memory {memory:g} GB",
            cpu=MAX_CPU,
            memory=MAX_MEMORY_GB,
        )
    for port in cprops.get("ports") or []:
        number = _port(port.get("port"))
        if number in ports:
            raise aci_error("DuplicateContainerPorts", name=group, port=number)
        ports.add(number)
    for env in cprops.get("environmentVariables") or []:
        _require(env.get("name"), f"{where}.properties.environmentVariables.name")
    command = cprops.get("command")
    if command is not None and not (
        isinstance(command, list) and all(isinstance(a, str) for a in command)
    ):
        raise aci_error(
            "InvalidRequestContent",
            detail=f"'{where}.properties.command' must be a list of strings",
        )


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise aci_error("InvalidPort", port=value)
    return value


def _replace_fingerprint(body: dict[str, Any]) -> dict[str, Any]:
    """The parts of a group that ACI cannot change in place."""
    props = body.get("properties", {})
    ip = props.get("ipAddress") or {}
    return {
        "os type": props.get("osType"),
        "restart policy": props.get("restartPolicy", "Always"),
        "ip address type": ip.get("type"),
        "ip address ports": sorted(
            (p.get("port"), p.get("protocol", "TCP")) for p in ip.get("ports") or []
        ),
        "subnet": props.get("subnetIds"),
        "sku": props.get("sku", "Standard"),
        "zones": body.get("zones"),
        "containers": {
            c["name"]: {
                "cpu": float(c["properties"]["resources"]["requests"]["cpu"]),
                "memory": float(c["properties"]["resources"]["requests"]["memoryInGB"]),
                "gpu": c["properties"]["resources"]["requests"].get("gpu"),
                "limits": c["properties"]["resources"].get("limits"),
                "ports": sorted(p.get("port") for p in c["properties"].get("ports") or []),
            }
            for c in props.get("containers", [])
        },
    }


def replace_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Names of the changed fields that need a delete and a create."""
    before, after = _replace_fingerprint(old), _replace_fingerprint(new)
    changed = [k for k in before if k != "containers" and before[k] != after[k]]
    for cname, spec in after["containers"].items():
        prior = before["containers"].get(cname)
        if prior is None:
            continue
        changed += [f"containers[{cname}].{k}" for k in spec if spec[k] != prior[k]]
    return changed


def definition(key: str, body: dict[str, Any]) -> GroupDefinition:
    props = body["properties"]
    containers = []
    for c in props["containers"]:
        cp = c["properties"]
        env = tuple(
            (
                e["name"],
                str(e.get("value") if e.get("value") is not None else e.get("secureValue") or ""),
            )
            for e in cp.get("environmentVariables") or []
        )
        requests = cp["resources"]["requests"]
        containers.append(
            ContainerDefinition(
                name=c["name"],
                image=cp["image"],
                command=tuple(cp.get("command") or ()),
                env=env,
                cpu=float(requests["cpu"]),
                memory_gb=float(requests["memoryInGB"]),
                ports=tuple(p["port"] for p in cp.get("ports") or []),
            )
        )
    return GroupDefinition(
        key=key,
        name=body["name"],
        restart_policy=props.get("restartPolicy", "Always"),
        containers=tuple(containers),
        os_type=props.get("osType", "Linux"),
    )
