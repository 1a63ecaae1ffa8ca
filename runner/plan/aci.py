"""Container groups: canonical form, ACI's update rules as data, and the per-group diff.

ACI's rules (https://learn.microsoft.com/azure/container-instances/container-instances-update):
a PUT of an unchanged group still restarts every container, so nothing is sent when
nothing changed; image, environment, command, DNS label and tags update in place; OS type,
CPU, memory, GPU, restart policy, network, zones, ports and volumes need delete then create.

Secure values are compared through fingerprints keyed with the caller's ``FingerprintKey``.
One read back that this key did not make (another machine's key, none, or no tag at all)
cannot be compared: it counts as changed and the plan says why.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from runner.plan import canonical as c
from runner.plan.action import Action
from runner.plan.canonical import FingerprintKey
from runner.plan.model import Change
from runner.plan.observed import ObservedContainerGroup, group_address, rg_address
from runner.spec.models import Container, ContainerGroup, Port, Volume

SECRET_KEYS = frozenset({"secureEnv", "secret", "storageAccountKey"})


class Effect(Enum):
    IN_PLACE = "in place"
    REPLACE = "replace"


# First matching prefix wins; a path no rule names forces a replace (the safe default).
UPDATE_RULES: tuple[tuple[tuple[str, ...], Effect], ...] = (
    (("tags",), Effect.IN_PLACE),
    (("containers", "*", "image"), Effect.IN_PLACE),
    (("containers", "*", "env"), Effect.IN_PLACE),
    (("containers", "*", "secureEnv"), Effect.IN_PLACE),
    (("containers", "*", "command"), Effect.IN_PLACE),
    (("ipAddress", "dnsNameLabel"), Effect.IN_PLACE),
    (("location",), Effect.REPLACE),
    (("osType",), Effect.REPLACE),
    (("restartPolicy",), Effect.REPLACE),
    (("containers", "*", "cpu"), Effect.REPLACE),
    (("containers", "*", "memoryInGB"), Effect.REPLACE),
    (("containers", "*", "gpu"), Effect.REPLACE),
    (("containers", "*", "ports"), Effect.REPLACE),
    (("containers", "*", "volumeMounts"), Effect.REPLACE),
    (("containers",), Effect.REPLACE),  # a container added or removed
    (("ipAddress",), Effect.REPLACE),
    (("subnetIds",), Effect.REPLACE),
    (("zones",), Effect.REPLACE),
    (("volumes",), Effect.REPLACE),
)

# Fields compared one key at a time, so a plan names the variable or tag that changed.
_PER_KEY = frozenset({"env", "secureEnv", "tags"})


# --- canonical form of the desired group ----------------------------------------


def salt_for(resource_group: str, name: str) -> str:
    return f"{resource_group.lower()}/{name}"


def needs_key(spec: ContainerGroup) -> bool:
    """Whether the group holds a secure value, whose fingerprint needs a key."""
    return any(ct.secure_env for ct in spec.containers) or any(
        v.secret or (v.azure_file or {}).get("storageAccountKey") for v in spec.volumes
    )


def canonical_group(spec: ContainerGroup, key: FingerprintKey | None = None) -> dict[str, Any]:
    """Without a key, secure values read as ``fp:unknown``: good for deciding what to read,
    never for a plan or for tags (``diff_group`` and the backend insist on a key)."""
    salt = salt_for(spec.resource_group, spec.name)
    ip: dict[str, Any] | None = None
    if spec.ip_address is not None:
        # ACI needs the group's public ports listed; by default expose every container port.
        ports = spec.ip_address.ports or [p for ct in spec.containers for p in ct.ports]
        ip = {
            "type": c.enum(spec.ip_address.type, "Public"),
            "dnsNameLabel": spec.ip_address.dns_name_label,
            "ports": _ports(ports),
        }
    return {
        "location": c.location(spec.location),
        "osType": c.enum(spec.os_type, "Linux"),
        "restartPolicy": c.enum(spec.restart_policy, "Always"),
        "containers": sorted((_container(ct, salt, key) for ct in spec.containers), key=_by_name),
        "ipAddress": ip,
        "volumes": sorted((_volume(v, salt, key) for v in spec.volumes), key=_by_name),
        "subnetIds": [],
        "zones": [],
        "tags": dict(sorted(spec.tags.items())),
    }


def group_hash(spec: ContainerGroup, key: FingerprintKey | None = None) -> str:
    return c.form_hash(canonical_group(spec, key))


def _fingerprint(value: str, salt: str, key: FingerprintKey | None) -> str:
    return c.fingerprint(value, salt, key) if key is not None else c.UNKNOWN_FINGERPRINT


def fingerprints(form: Mapping[str, Any]) -> dict[str, str]:
    """Secure fingerprints by key: ``<container>.<VAR>`` and ``volume:<volume>.<file>``."""
    out: dict[str, str] = {}
    for ct in form.get("containers", []):
        for var, fp in ct.get("secureEnv", {}).items():
            out[f"{ct['name']}.{var}"] = fp
    for vol in form.get("volumes", []):
        for file, fp in (vol.get("secret") or {}).items():
            out[f"volume:{vol['name']}.{file}"] = fp
        key = (vol.get("azureFile") or {}).get("storageAccountKey")
        if key:
            out[f"volume:{vol['name']}.storageAccountKey"] = key
    return out


def _by_name(item: Mapping[str, Any]) -> str:
    return str(item["name"])


def _ports(ports: list[Port]) -> list[dict[str, Any]]:
    pairs = sorted({(p.port, c.enum(p.protocol, "TCP")) for p in ports})
    return [{"port": port, "protocol": proto} for port, proto in pairs]


def _container(ct: Container, salt: str, key: FingerprintKey | None) -> dict[str, Any]:
    return {
        "name": ct.name,
        "image": ct.image,
        "cpu": c.number(ct.cpu),
        "memoryInGB": c.number(ct.memory_in_gb),
        "gpu": None,
        "ports": _ports(ct.ports),
        "command": list(ct.command or []),
        "env": dict(sorted(ct.env.items())),
        "secureEnv": {
            k: _fingerprint(v, f"{salt}/{ct.name}.{k}", key)
            for k, v in sorted(ct.secure_env.items())
        },
        "volumeMounts": sorted(
            (
                {"name": m.name, "mountPath": m.mount_path, "readOnly": m.read_only}
                for m in ct.volume_mounts
            ),
            key=_by_name,
        ),
    }


def _volume(v: Volume, salt: str, key: FingerprintKey | None) -> dict[str, Any]:
    secret = None
    if v.secret is not None:
        secret = {
            f: _fingerprint(data, f"{salt}/volume:{v.name}.{f}", key)
            for f, data in sorted(v.secret.items())
        }
    azure_file = None
    if v.azure_file is not None:
        azure_file = {
            "shareName": v.azure_file.get("shareName"),
            "storageAccountName": v.azure_file.get("storageAccountName"),
            "readOnly": bool(v.azure_file.get("readOnly", False)),
            "storageAccountKey": (
                _fingerprint(
                    str(v.azure_file["storageAccountKey"]),
                    f"{salt}/volume:{v.name}.storageAccountKey",
                    key,
                )
                if v.azure_file.get("storageAccountKey")
                else None
            ),
        }
    return {
        "name": v.name,
        "emptyDir": {} if v.empty_dir is not None else None,
        "secret": secret,
        "azureFile": azure_file,
    }


# --- comparison -----------------------------------------------------------------


def changed_paths(desired: Mapping[str, Any], observed: Mapping[str, Any]) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for key in sorted(set(desired) | set(observed)):
        want, have = desired.get(key), observed.get(key)
        if key == "containers":
            paths += _container_paths(want or [], have or [])
        elif key in _PER_KEY:
            paths += _key_paths((key,), want or {}, have or {})
        elif key == "ipAddress" and want and have:
            paths += [
                ("ipAddress", k)
                for k in sorted(set(want) | set(have))
                if want.get(k) != have.get(k)
            ]
        elif want != have:
            paths.append((key,))
    return paths


def _container_paths(
    want: list[dict[str, Any]], have: list[dict[str, Any]]
) -> list[tuple[str, ...]]:
    wanted = {ct["name"]: ct for ct in want}
    had = {ct["name"]: ct for ct in have}
    if set(wanted) != set(had):
        return [("containers",)]
    paths: list[tuple[str, ...]] = []
    for name in sorted(wanted):
        a, b = wanted[name], had[name]
        for key in sorted(set(a) | set(b)):
            if key in _PER_KEY:
                paths += _key_paths(("containers", name, key), a.get(key) or {}, b.get(key) or {})
            elif a.get(key) != b.get(key):
                paths.append(("containers", name, key))
    return paths


def _key_paths(
    prefix: tuple[str, ...], want: Mapping[str, Any], have: Mapping[str, Any]
) -> list[tuple[str, ...]]:
    return [prefix + (k,) for k in sorted(set(want) | set(have)) if want.get(k) != have.get(k)]


def effect_of(path: tuple[str, ...]) -> Effect:
    for pattern, effect in UPDATE_RULES:
        if len(pattern) <= len(path) and all(
            p in ("*", s) for p, s in zip(pattern, path, strict=False)
        ):
            return effect
    return Effect.REPLACE


def show_path(path: tuple[str, ...]) -> str:
    """``("containers", "web", "env", "A")`` -> ``containers[web].env.A``."""
    if path[0] in ("containers", "volumes") and len(path) > 1:
        return ".".join([f"{path[0]}[{path[1]}]", *path[2:]])
    return ".".join(path)


# --- secure values this key cannot compare ------------------------------------------

# Why a fingerprint read back cannot be compared: (one value, several).
_NO_TAG = ("it has no fingerprint tag", "they have no fingerprint tags")
_UNKEYED = (
    "its fingerprint was made without a key",
    "their fingerprints were made without a key",
)
_OTHER_KEY = (
    "its fingerprint was made with another key",
    "their fingerprints were made with another key",
)


@dataclass(frozen=True)
class Uncompared:
    """A secure value whose fingerprint read back this key did not make."""

    path: tuple[str, ...]
    why: tuple[str, str]


def _why(mine: str, theirs: Any) -> tuple[str, str] | None:
    if not isinstance(theirs, str) or theirs == c.UNKNOWN_FINGERPRINT:
        return _NO_TAG
    made_with = c.fingerprint_key_id(theirs)
    if made_with is None:
        return _UNKEYED
    return _OTHER_KEY if made_with != c.fingerprint_key_id(mine) else None


def uncompared(
    desired: Mapping[str, Any], observed: Mapping[str, Any]
) -> tuple[dict[str, Any], list[Uncompared]]:
    """``observed`` with each secure fingerprint that cannot be compared with the desired
    one replaced by it (so that the rest compares as usual), and those values. A secure
    value on one side only is an ordinary change, not one of these."""
    have = copy.deepcopy(dict(observed))
    found: list[Uncompared] = []

    def check(
        path: tuple[str, ...], mine: str | None, holder: Any, field: str, present: bool
    ) -> None:
        if not mine or not isinstance(holder, dict) or not present:
            return
        why = _why(mine, holder.get(field))
        if why is not None:
            holder[field] = mine
            found.append(Uncompared(path, why))

    had = {ct["name"]: ct for ct in have.get("containers") or []}
    for ct in desired.get("containers") or []:
        secure = (had.get(ct["name"]) or {}).get("secureEnv")
        for var, fp in (ct.get("secureEnv") or {}).items():
            path = ("containers", ct["name"], "secureEnv", var)
            check(path, fp, secure, var, isinstance(secure, dict) and var in secure)
    had = {v["name"]: v for v in have.get("volumes") or []}
    for vol in desired.get("volumes") or []:
        other = had.get(vol["name"]) or {}
        secret = other.get("secret")
        for file, fp in (vol.get("secret") or {}).items():
            path = ("volumes", vol["name"], "secret", file)
            check(path, fp, secret, file, isinstance(secret, dict) and file in secret)
        share = other.get("azureFile")
        path = ("volumes", vol["name"], "azureFile", "storageAccountKey")
        mine = (vol.get("azureFile") or {}).get("storageAccountKey")
        check(path, mine, share, "storageAccountKey", True)
    return have, found


def uncompared_note(values: list[Uncompared]) -> str:
    """``secure value containers[app].secureEnv.TOKEN cannot be compared, as its
    fingerprint was made with another key: it will be sent again``."""
    by_why: dict[tuple[str, str], list[str]] = {}
    for value in values:
        by_why.setdefault(value.why, []).append(show_path(value.path))
    notes = []
    for why, names in by_why.items():
        one = len(names) == 1
        notes.append(
            f"secure value{'' if one else 's'} {', '.join(names)} cannot be compared, as "
            f"{why[0] if one else why[1]}: {'it' if one else 'they'} will be sent again"
        )
    return "; ".join(notes)


# --- one group ------------------------------------------------------------------


def diff_group(
    spec: ContainerGroup,
    observed: ObservedContainerGroup | None,
    *,
    workspace: str,
    subscription: str | None = None,
    key: FingerprintKey | None = None,
) -> Change:
    """``key`` fingerprints the spec's secure values; required when it has any."""
    if key is None and needs_key(spec):
        raise ValueError(f"{spec.name} holds secure values: a fingerprint key is needed")
    after = canonical_group(spec, key)
    common: dict[str, Any] = {
        "address": group_address(spec.resource_group, spec.name),
        "after": c.redact(after, SECRET_KEYS),
        "depends_on": (rg_address(spec.resource_group),),
        "subscription": subscription,
    }
    if observed is None:
        return Change(action=Action.CREATE, reason="does not exist yet", owned=True, **common)
    before = c.redact(observed.definition, SECRET_KEYS)
    if not observed.ownership.owned_by(workspace):
        return Change(
            action=Action.CONFLICT,
            reason=f"exists and is {observed.ownership.describe()}; left untouched",
            before=before,
            **common,
        )
    if observed.deleting:
        return Change(
            action=Action.CREATE,
            reason="a delete is still running; created once it finishes",
            before=before,
            waits_for_delete=True,
            owned=True,
            **common,
        )
    comparable, unsure = uncompared(after, observed.definition)
    changed = changed_paths(after, comparable)
    paths = sorted({*changed, *(u.path for u in unsure)})
    shown = tuple(show_path(p) for p in paths)
    forcing = tuple(show_path(p) for p in paths if effect_of(p) is Effect.REPLACE)
    note = [uncompared_note(unsure)] if unsure else []
    if forcing:
        return Change(
            action=Action.REPLACE,
            reason="; ".join([f"{', '.join(forcing)} cannot change in place", *note]),
            before=before,
            replace_paths=forcing,
            paths=shown,
            waits_for_delete=True,
            owned=True,
            **common,
        )
    if paths:
        in_place = [f"changes in place: {', '.join(map(show_path, changed))}"] if changed else []
        return Change(
            action=Action.UPDATE,
            reason="; ".join(in_place + note),
            before=before,
            paths=shown,
            tags_only=all(p.startswith("tags.") for p in shown),
            owned=True,
            **common,
        )
    state = observed.instance_state
    if observed.provisioning_state == "Failed":
        return Change(
            action=Action.UPDATE,
            reason="the last provisioning failed; the definition is sent again",
            before=before,
            owned=True,
            **common,
        )
    if state == "Stopped" or (spec.runs_to_completion and observed.finished):
        return Change(
            action=Action.START,
            reason=f"{(state or 'stopped').lower()} with an unchanged definition; started again",
            before=before,
            owned=True,
            **common,
        )
    detail = f" ({state.lower()})" if state else ""
    return Change(
        action=Action.NOOP, reason=f"up to date{detail}", before=before, owned=True, **common
    )
