"""The ``az container create --file`` YAML format, read into the ``ContainerGroup`` model.

Shape (Microsoft's "YAML reference: Azure Container Instances"): ``apiVersion``,
``location``, ``name``, ``type: Microsoft.ContainerInstance/containerGroups``, ``tags`` and
``properties`` with ``containers[].properties`` (``image``, ``command``, ``ports``,
``environmentVariables`` with ``value`` or ``secureValue``, ``resources.requests.cpu`` and
``memoryInGB``, ``volumeMounts``), ``osType``, ``restartPolicy``, ``ipAddress``, ``volumes``.
As ``az`` does, this accepts ``memoryInGb`` for ``memoryInGB`` and an unquoted date as
``apiVersion``, and reads every value as written: no templates, no ``vars:``. The file names
no resource group (``az`` takes ``--resource-group``): it is the ``resourceGroup`` variable
(``--var resourceGroup=NAME``), else ``DEFAULT_RESOURCE_GROUP``, and that is the only
variable such a file takes.

The conversion records where each produced value came from, so validation errors point at
the az file's own lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACI_TYPE = "Microsoft.ContainerInstance/containerGroups"
DEFAULT_RESOURCE_GROUP = "runner-aci"
RESOURCE_GROUP_VARIABLE = "resourceGroup"
LITERAL = (
    "az container create --file documents are read literally, with no templating "
    f"(the only variable they take is {RESOURCE_GROUP_VARIABLE}: "
    f"--var {RESOURCE_GROUP_VARIABLE}=NAME)"
)
_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview)?$")

Path = tuple[str | int, ...]

_GROUP_PROPERTIES = {
    "osType": "osType",
    "restartPolicy": "restartPolicy",
    "volumes": "volumes",
}
_CONTAINER_PROPERTIES = {"image": "image", "command": "command", "volumeMounts": "volumeMounts"}
# ARM compares enum values without case; files in the wild write `type: public`.
_ENUMS = {
    v.lower(): v for v in ("Linux", "Windows", "Always", "OnFailure", "Never", "Public", "Private")
}


def _enum(value: Any) -> Any:
    return _ENUMS.get(value.lower(), value) if isinstance(value, str) else value


def is_az_document(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "kind" not in data
        and ("apiVersion" in data or data.get("type") == ACI_TYPE)
        and "properties" in data
    )


@dataclass
class AzConversion:
    data: dict[str, Any]
    origin: dict[Path, Path] = field(default_factory=dict)
    problems: list[tuple[str, Path, bool]] = field(default_factory=list)
    # Converted mapping keys that are values in the az file (`name: API_TOKEN`).
    key_origin: dict[Path, Path] = field(default_factory=dict)

    def az_path(self, loc: Path) -> Path:
        """Translate a location in the converted data into one in the az file."""
        for n in range(len(loc), -1, -1):
            if loc[:n] in self.origin:
                return self.origin[loc[:n]] + loc[n:]
        return loc


def convert(doc: Mapping[str, Any], variables: Mapping[str, Any]) -> AzConversion:
    out: dict[str, Any] = {"kind": "ContainerGroup"}
    conv = AzConversion(out, {(): ()})
    for key, value in doc.items():
        if key in ("name", "location", "tags"):
            _put(conv, out, (key,), value, (key,))
        elif key == "apiVersion":
            if not _API_VERSION.match(str(value)):
                conv.problems.append(
                    (
                        f"apiVersion should be a date such as 2023-05-01, got {value!r}",
                        (key,),
                        False,
                    )
                )
        elif key == "type":
            if value != ACI_TYPE:
                conv.problems.append((f"type must be {ACI_TYPE}, got {value!r}", (key,), False))
        elif key == "vars":
            conv.problems.append((f"an az file has no vars: {LITERAL}", (key,), True))
        elif key != "properties":
            conv.problems.append((_unsupported(key), (key,), True))
    out["resourceGroup"] = str(variables.get(RESOURCE_GROUP_VARIABLE, DEFAULT_RESOURCE_GROUP))
    props = doc.get("properties")
    if not isinstance(props, dict):
        _put(conv, out, ("containers",), props, ("properties",))
        return conv
    for key, value in props.items():
        az = ("properties", key)
        if key == "containers":
            _containers(conv, value, az)
        elif key == "ipAddress":
            _ip_address(conv, value, az)
        elif key in _GROUP_PROPERTIES:
            _put(conv, out, (_GROUP_PROPERTIES[key],), _enum(value), az)
        elif key == "sku" and str(value).lower() == "standard":
            pass  # the default SKU: nothing to carry
        else:
            conv.problems.append((_unsupported(key), az, True))
    return conv


def _unsupported(key: str) -> str:
    return f"'{key}' is not supported by runner in az container files"


def _put(conv: AzConversion, target: dict[str, Any], path: Path, value: Any, az: Path) -> None:
    target[str(path[-1])] = value
    conv.origin[path] = az


def _containers(conv: AzConversion, value: Any, az: Path) -> None:
    if not isinstance(value, list):
        _put(conv, conv.data, ("containers",), value, az)
        return
    containers: list[Any] = []
    _put(conv, conv.data, ("containers",), containers, az)
    for i, item in enumerate(value):
        here: Path = ("containers", i)
        conv.origin[here] = (*az, i)
        if not isinstance(item, dict):
            containers.append(item)
            continue
        container: dict[str, Any] = {}
        containers.append(container)
        for key, sub in item.items():
            if key == "name":
                _put(conv, container, (*here, "name"), sub, (*az, i, "name"))
            elif key != "properties":
                conv.problems.append((_unsupported(key), (*az, i, key), True))
        props = item.get("properties")
        if isinstance(props, dict):
            _container_properties(conv, container, here, props, (*az, i, "properties"))


def _container_properties(
    conv: AzConversion, container: dict[str, Any], here: Path, props: dict[str, Any], az: Path
) -> None:
    for key, value in props.items():
        if key in _CONTAINER_PROPERTIES:
            _put(conv, container, (*here, _CONTAINER_PROPERTIES[key]), value, (*az, key))
        elif key == "ports":
            _put(conv, container, (*here, "ports"), _ports(value), (*az, key))
        elif key == "environmentVariables":
            _environment(conv, container, here, value, (*az, key))
        elif key == "resources":
            _resources(conv, container, here, value, (*az, key))
        else:
            conv.problems.append((_unsupported(key), (*az, key), True))


def _resources(
    conv: AzConversion, container: dict[str, Any], here: Path, value: Any, az: Path
) -> None:
    requests = value.get("requests") if isinstance(value, dict) else None
    if not isinstance(requests, dict):
        conv.problems.append(("resources needs requests with cpu and memoryInGB", az, False))
        return
    for key, sub in requests.items():
        where = (*az, "requests", key)
        if key == "cpu":
            _put(conv, container, (*here, "cpu"), sub, where)
        elif key in ("memoryInGB", "memoryInGb"):
            _put(conv, container, (*here, "memoryInGB"), sub, where)
        else:
            conv.problems.append((_unsupported(key), where, True))


def _environment(
    conv: AzConversion, container: dict[str, Any], here: Path, value: Any, az: Path
) -> None:
    if not isinstance(value, list):
        _put(conv, container, (*here, "env"), value, az)
        return
    env: dict[str, Any] = {}
    secure: dict[str, Any] = {}
    container["env"], container["secureEnv"] = env, secure
    conv.origin[(*here, "env")] = conv.origin[(*here, "secureEnv")] = az
    for k, item in enumerate(value):
        if not isinstance(item, dict) or "name" not in item:
            conv.problems.append(("an environment variable needs a name", (*az, k), False))
            continue
        name = str(item["name"])
        kind = "secureEnv" if "secureValue" in item else "env"
        conv.key_origin[(*here, kind, name)] = (*az, k, "name")
        if "secureValue" in item:
            secure[name] = item["secureValue"]
            conv.origin[(*here, "secureEnv", name)] = (*az, k, "secureValue")
        else:
            env[name] = item.get("value", "")
            conv.origin[(*here, "env", name)] = (*az, k, "value")


def _ip_address(conv: AzConversion, value: Any, az: Path) -> None:
    if not isinstance(value, dict):
        _put(conv, conv.data, ("ipAddress",), value, az)
        return
    ip: dict[str, Any] = {}
    _put(conv, conv.data, ("ipAddress",), ip, az)
    for key, sub in value.items():
        if key in ("type", "dnsNameLabel"):
            _put(conv, ip, ("ipAddress", key), _enum(sub) if key == "type" else sub, (*az, key))
        elif key == "ports":
            _put(conv, ip, ("ipAddress", "ports"), _ports(sub), (*az, key))
        elif key != "ip":  # the address Azure assigned: read-only, ignored as az does
            conv.problems.append((_unsupported(key), (*az, key), True))


def _ports(value: Any) -> Any:
    """``protocol: tcp`` is common in az files; the API's enum is ``TCP``/``UDP``."""
    if not isinstance(value, list):
        return value
    return [
        {**p, "protocol": p["protocol"].upper()}
        if isinstance(p, dict) and isinstance(p.get("protocol"), str)
        else p
        for p in value
    ]
