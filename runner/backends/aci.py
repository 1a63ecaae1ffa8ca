"""Container groups on ACI: readers of live state and actuators.

Readers: one paged ``list`` per subscription for a plan (list items carry no group
instance view), a ``get`` only for the groups whose state is needed. The conversion is the
pure ``observed_from_payload``, tested with recorded payloads. Actuators send the FULL
desired group on every PUT: a PUT replaces the whole resource and omitted properties go
back to their defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError
from azure.mgmt.containerinstance import models as m

from runner.backends import lro, tags
from runner.backends.errors import is_not_found, translate
from runner.plan.aci import canonical_group, fingerprints, group_hash, needs_key
from runner.plan.aci_payload import canonical_from_payload
from runner.plan.canonical import FingerprintKey
from runner.plan.observed import ObservedContainer, ObservedContainerGroup
from runner.plan.provenance import Stamp
from runner.spec.models import ContainerGroup

if TYPE_CHECKING:
    from runner.backends.target import Target

# --- reading ------------------------------------------------------------------------


def observed_from_payload(payload: Mapping[str, Any]) -> ObservedContainerGroup:
    """A container group as REST JSON (``GET``, or one item of ``list``) -> observed."""
    props = payload.get("properties") or {}
    sub, rg = _scope(str(payload.get("id", "")))
    parsed = tags.parse(payload.get("tags"))
    view = props.get("instanceView")
    containers = tuple(_container_state(ct) for ct in props.get("containers") or [])
    ip = props.get("ipAddress") or {}
    return ObservedContainerGroup(
        name=str(payload.get("name", "")),
        resource_group=rg,
        subscription=sub,
        location=str(payload.get("location", "")),
        tags=parsed.user,
        ownership=parsed.ownership,
        definition=canonical_from_payload(payload, parsed.user, parsed.fingerprints),
        provisioning_state=props.get("provisioningState"),
        instance_state=(view or {}).get("state") if view else None,
        containers=containers if any(c.state for c in containers) else (),
        ip=ip.get("ip"),
        fqdn=ip.get("fqdn"),
    )


def _scope(resource_id: str) -> tuple[str, str]:
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    sub = parts[lowered.index("subscriptions") + 1] if "subscriptions" in lowered else ""
    rg = parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""
    return sub, rg


def _container_state(ct: Mapping[str, Any]) -> ObservedContainer:
    view = (ct.get("properties") or {}).get("instanceView") or {}
    current = view.get("currentState") or {}
    return ObservedContainer(
        name=str(ct.get("name", "")),
        state=current.get("state"),
        exit_code=current.get("exitCode"),
        restart_count=view.get("restartCount"),
        detail_status=current.get("detailStatus") or None,
    )


def _payload(model: Any) -> dict[str, Any]:
    return dict(model.serialize(keep_readonly=True))


def list_container_groups(client: Any) -> list[ObservedContainerGroup]:
    """Every container group of the client's subscription: one paged request."""
    try:
        return [observed_from_payload(_payload(g)) for g in client.container_groups.list()]
    except AzureError as exc:
        raise translate(exc) from exc


def read_container_group(client: Any, rg: str, name: str) -> ObservedContainerGroup | None:
    """One group with its instance view; None when it does not exist."""
    try:
        return observed_from_payload(_payload(client.container_groups.get(rg, name)))
    except AzureError as exc:
        if is_not_found(exc):
            return None
        raise translate(exc) from exc


def read_warnings(client: Any, rg: str, name: str) -> dict[str, list[str]] | None:
    """Each container's warning events (why it could not start or keeps failing), from
    the group's instance view; None when the group does not exist."""
    try:
        group = client.container_groups.get(rg, name)
    except AzureError as exc:
        if is_not_found(exc):
            return None
        raise translate(exc) from exc
    found: dict[str, list[str]] = {}
    for ct in group.containers or ():
        events = ct.instance_view.events if ct.instance_view else None
        messages = [
            e.message for e in events or () if e.message and (e.type or "").lower() == "warning"
        ]
        if messages:
            found[ct.name] = messages
    return found


def read_logs(client: Any, rg: str, name: str, container: str, tail: int | None = None) -> str:
    try:
        logs = client.containers.list_logs(rg, name, container, tail=tail)
    except AzureError as exc:
        raise translate(exc) from exc
    return str(logs.content or "")


# --- acting ---------------------------------------------------------------------------


def group_model(
    spec: ContainerGroup,
    *,
    workspace: str,
    key: FingerprintKey | None = None,
    stamp: Stamp | None = None,
) -> m.ContainerGroup:
    """The full SDK model for a spec, ownership tags, fingerprints (made with ``key``,
    which a spec with secure values must have) and the apply's ``stamp`` included."""
    if key is None and needs_key(spec):
        raise ValueError(f"{spec.name} holds secure values: a fingerprint key is needed")
    form = canonical_group(spec, key)
    group_tags = tags.resource_tags(
        spec.tags,
        spec=spec.name,
        workspace=workspace,
        hash=group_hash(spec, key),
        fingerprints=fingerprints(form),
        stamp=stamp,
    )
    ip = None
    if form["ipAddress"] is not None:
        ip = m.IpAddress(
            type=form["ipAddress"]["type"],
            dns_name_label=form["ipAddress"]["dnsNameLabel"],
            ports=[
                m.Port(port=p["port"], protocol=p["protocol"]) for p in form["ipAddress"]["ports"]
            ],
        )
    return m.ContainerGroup(
        location=spec.location,
        tags=group_tags,
        os_type=spec.os_type,
        restart_policy=spec.restart_policy,
        containers=[_container_model(ct) for ct in spec.containers],
        ip_address=ip,
        volumes=[_volume_model(v) for v in spec.volumes] or None,
    )


def _container_model(ct: Any) -> m.Container:
    env = [m.EnvironmentVariable(name=k, value=v) for k, v in sorted(ct.env.items())]
    env += [m.EnvironmentVariable(name=k, secure_value=v) for k, v in sorted(ct.secure_env.items())]
    return m.Container(
        name=ct.name,
        image=ct.image,
        command=list(ct.command) if ct.command is not None else None,
        ports=[m.ContainerPort(port=p.port, protocol=p.protocol) for p in ct.ports] or None,
        environment_variables=env or None,
        resources=m.ResourceRequirements(
            requests=m.ResourceRequests(memory_in_gb=ct.memory_in_gb, cpu=ct.cpu)
        ),
        volume_mounts=[
            m.VolumeMount(name=v.name, mount_path=v.mount_path, read_only=v.read_only)
            for v in ct.volume_mounts
        ]
        or None,
    )


def _volume_model(v: Any) -> m.Volume:
    azure_file = None
    if v.azure_file is not None:
        af = v.azure_file
        azure_file = m.AzureFileVolume(
            share_name=af.get("shareName"),
            storage_account_name=af.get("storageAccountName"),
            storage_account_key=af.get("storageAccountKey"),
            read_only=af.get("readOnly"),
        )
    return m.Volume(
        name=v.name,
        empty_dir=dict(v.empty_dir) if v.empty_dir is not None else None,
        secret=dict(v.secret) if v.secret is not None else None,
        azure_file=azure_file,
    )


def begin_put(
    client: Any,
    spec: ContainerGroup,
    *,
    workspace: str,
    key: FingerprintKey | None = None,
    stamp: Stamp | None = None,
) -> lro.Operation:
    model = group_model(spec, workspace=workspace, key=key, stamp=stamp)
    return lro.send(
        lambda **kw: client.container_groups.begin_create_or_update(
            spec.resource_group, spec.name, model, **kw
        )
    )


def patch_tags(
    client: Any,
    spec: ContainerGroup,
    *,
    workspace: str,
    key: FingerprintKey | None = None,
    stamp: Stamp | None = None,
) -> None:
    """A tag-only change: PATCH touches tags alone and restarts nothing."""
    model = group_model(spec, workspace=workspace, key=key, stamp=stamp)
    try:
        client.container_groups.update(spec.resource_group, spec.name, m.Resource(tags=model.tags))
    except AzureError as exc:
        raise translate(exc) from exc


def begin_delete(client: Any, rg: str, name: str) -> lro.Operation:
    return lro.send(lambda **kw: client.container_groups.begin_delete(rg, name, **kw))


def begin_start(client: Any, rg: str, name: str) -> lro.Operation:
    return lro.send(lambda **kw: client.container_groups.begin_start(rg, name, **kw))


def stop(client: Any, rg: str, name: str) -> None:
    try:
        client.container_groups.stop(rg, name)
    except AzureError as exc:
        raise translate(exc) from exc


# --- the engine's handle --------------------------------------------------------------


class ContainerGroups:
    """The container groups of one subscription, as the engine reads and changes them:
    plain values in, observed state and operations out; the SDK client stays in here."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def read_all(self) -> list[ObservedContainerGroup]:
        return list_container_groups(self._client)

    def read(self, rg: str, name: str) -> ObservedContainerGroup | None:
        return read_container_group(self._client, rg, name)

    def warnings(self, rg: str, name: str) -> dict[str, list[str]] | None:
        return read_warnings(self._client, rg, name)

    def logs(self, rg: str, name: str, container: str, tail: int | None = None) -> str:
        return read_logs(self._client, rg, name, container, tail)

    def begin_put(
        self,
        spec: ContainerGroup,
        *,
        workspace: str,
        key: FingerprintKey | None = None,
        stamp: Stamp | None = None,
    ) -> lro.Operation:
        return begin_put(self._client, spec, workspace=workspace, key=key, stamp=stamp)

    def patch_tags(
        self,
        spec: ContainerGroup,
        *,
        workspace: str,
        key: FingerprintKey | None = None,
        stamp: Stamp | None = None,
    ) -> None:
        patch_tags(self._client, spec, workspace=workspace, key=key, stamp=stamp)

    def begin_delete(self, rg: str, name: str) -> lro.Operation:
        return begin_delete(self._client, rg, name)

    def begin_start(self, rg: str, name: str) -> lro.Operation:
        return begin_start(self._client, rg, name)

    def poll(self, op: lro.Operation) -> lro.OperationStatus:
        return lro.poll(self._client, op)


def container_groups(target: Target, subscription: str) -> ContainerGroups:
    return ContainerGroups(target.aci_client(subscription))
