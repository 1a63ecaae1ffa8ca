"""The canonical form of a container group as Azure returns it (REST JSON, 2023-05-01).

The same spelling as ``plan.aci.canonical_group`` so the two compare field by field.
Secure values come back empty (ACI never returns them): their fingerprints, read from
tags, stand in; one without a fingerprint tag reads as ``fp:unknown`` and so differs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.plan import canonical as c


def canonical_from_payload(
    payload: Mapping[str, Any],
    user_tags: Mapping[str, str],
    fingerprints: Mapping[str, str],
) -> dict[str, Any]:
    props = payload.get("properties") or {}
    ip = props.get("ipAddress")
    return {
        "location": c.location(payload.get("location")),
        "osType": c.enum(props.get("osType"), "Linux"),
        "restartPolicy": c.enum(props.get("restartPolicy"), "Always"),
        "containers": sorted(
            (_container(ct, fingerprints) for ct in props.get("containers") or []),
            key=lambda ct: str(ct["name"]),
        ),
        "ipAddress": (
            {
                "type": c.enum(ip.get("type"), "Public"),
                "dnsNameLabel": ip.get("dnsNameLabel") or None,
                "ports": _ports(ip.get("ports")),
            }
            if ip
            else None
        ),
        "volumes": sorted(
            (_volume(v, fingerprints) for v in props.get("volumes") or []),
            key=lambda v: str(v["name"]),
        ),
        "subnetIds": sorted(str(s.get("id", "")).lower() for s in props.get("subnetIds") or []),
        "zones": sorted(payload.get("zones") or []),
        "tags": dict(sorted(user_tags.items())),
    }


def _ports(ports: Any) -> list[dict[str, Any]]:
    pairs = sorted({(int(p["port"]), c.enum(p.get("protocol"), "TCP")) for p in ports or []})
    return [{"port": port, "protocol": proto} for port, proto in pairs]


def _container(ct: Mapping[str, Any], fingerprints: Mapping[str, str]) -> dict[str, Any]:
    name = ct["name"]
    props = ct.get("properties") or {}
    requests = (props.get("resources") or {}).get("requests") or {}
    gpu = requests.get("gpu")
    env: dict[str, str] = {}
    secure: dict[str, str] = {}
    for var in props.get("environmentVariables") or []:
        # A secure variable comes back with its name only (or secureValue null).
        if "secureValue" in var or var.get("value") is None:
            secure[var["name"]] = fingerprints.get(f"{name}.{var['name']}", c.UNKNOWN_FINGERPRINT)
        else:
            env[var["name"]] = str(var["value"])
    return {
        "name": name,
        "image": props.get("image"),
        "cpu": c.number(requests.get("cpu", 1)),
        "memoryInGB": c.number(requests.get("memoryInGB", 1.5)),
        "gpu": {"count": int(gpu.get("count", 0)), "sku": str(gpu.get("sku"))} if gpu else None,
        "ports": _ports(props.get("ports")),
        "command": list(props.get("command") or []),
        "env": dict(sorted(env.items())),
        "secureEnv": dict(sorted(secure.items())),
        "volumeMounts": sorted(
            (
                {
                    "name": m["name"],
                    "mountPath": m["mountPath"],
                    "readOnly": bool(m.get("readOnly", False)),
                }
                for m in props.get("volumeMounts") or []
            ),
            key=lambda m: str(m["name"]),
        ),
    }


def _volume(v: Mapping[str, Any], fingerprints: Mapping[str, str]) -> dict[str, Any]:
    name = v["name"]
    prefix = f"volume:{name}."
    secret = None
    if v.get("secret") is not None:
        files = set(v["secret"]) | {k[len(prefix) :] for k in fingerprints if k.startswith(prefix)}
        files.discard("storageAccountKey")
        secret = {f: fingerprints.get(prefix + f, c.UNKNOWN_FINGERPRINT) for f in sorted(files)}
    azure_file = None
    if v.get("azureFile") is not None:
        af = v["azureFile"]
        azure_file = {
            "shareName": af.get("shareName"),
            "storageAccountName": af.get("storageAccountName"),
            "readOnly": bool(af.get("readOnly", False)),
            "storageAccountKey": fingerprints.get(prefix + "storageAccountKey"),
        }
    return {
        "name": name,
        "emptyDir": {} if v.get("emptyDir") is not None else None,
        "secret": secret,
        "azureFile": azure_file,
    }
