"""Resource groups (azure-mgmt-resource): one paged list per subscription, create with
ownership tags, delete as a long-running operation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError

from runner.backends import lro, tags
from runner.backends.errors import is_not_found, translate
from runner.plan.observed import ObservedResourceGroup
from runner.plan.provenance import Stamp

if TYPE_CHECKING:
    from runner.backends.target import Target


def observed_rg_from_payload(
    payload: dict[str, Any], subscription: str = ""
) -> ObservedResourceGroup:
    parsed = tags.parse(payload.get("tags"))
    return ObservedResourceGroup(
        name=str(payload.get("name", "")),
        subscription=subscription,
        location=str(payload.get("location", "")),
        tags=parsed.user,
        ownership=parsed.ownership,
        provisioning_state=(payload.get("properties") or {}).get("provisioningState"),
    )


def list_resource_groups(client: Any, subscription: str) -> list[ObservedResourceGroup]:
    try:
        return [
            observed_rg_from_payload(_payload(g), subscription)
            for g in client.resource_groups.list()
        ]
    except AzureError as exc:
        raise translate(exc) from exc


def read_resource_group(client: Any, name: str) -> ObservedResourceGroup | None:
    try:
        group = client.resource_groups.get(name)
    except AzureError as exc:
        if is_not_found(exc):
            return None
        raise translate(exc) from exc
    return observed_rg_from_payload(_payload(group))


def _payload(model: Any) -> dict[str, Any]:
    """REST JSON of a model: azure-mgmt-resource 26 models are mappings (``as_dict``);
    older msrest-style ones have ``serialize``."""
    if hasattr(model, "serialize"):
        return dict(model.serialize(keep_readonly=True))
    return dict(model.as_dict())


def create_resource_group(
    client: Any, name: str, location: str, *, workspace: str, stamp: Stamp | None = None
) -> None:
    """Created with ownership tags, so destroy may remove it once it is empty."""
    owner = tags.ownership_tags(spec=name, workspace=workspace, stamp=stamp)
    body = {"location": location, "tags": owner}
    try:
        client.resource_groups.create_or_update(name, body)
    except AzureError as exc:
        raise translate(exc) from exc


def resources_in(client: Any, name: str) -> list[str]:
    """The ids of every resource in the group, of any kind (ARM's generic list): what
    deleting the group would take with it."""
    try:
        return [str(r.id) for r in client.resources.list_by_resource_group(name)]
    except AzureError as exc:
        if is_not_found(exc):
            return []
        raise translate(exc) from exc


def begin_delete_resource_group(client: Any, name: str) -> lro.Operation:
    return lro.send(lambda **kw: client.resource_groups.begin_delete(name, **kw))


class ResourceGroups:
    """The resource groups of one subscription, as the engine reads and changes them."""

    def __init__(self, client: Any, subscription: str) -> None:
        self._client = client
        self.subscription = subscription

    def read_all(self) -> list[ObservedResourceGroup]:
        return list_resource_groups(self._client, self.subscription)

    def read(self, name: str) -> ObservedResourceGroup | None:
        return read_resource_group(self._client, name)

    def create(
        self, name: str, location: str, *, workspace: str, stamp: Stamp | None = None
    ) -> None:
        create_resource_group(self._client, name, location, workspace=workspace, stamp=stamp)

    def resources_in(self, name: str) -> list[str]:
        return resources_in(self._client, name)

    def begin_delete(self, name: str) -> lro.Operation:
        return begin_delete_resource_group(self._client, name)

    def poll(self, op: lro.Operation) -> lro.OperationStatus:
        return lro.poll(self._client, op)


def resource_groups(target: Target, subscription: str) -> ResourceGroups:
    return ResourceGroups(target.resource_client(subscription), subscription)
