"""Live state as plain data: what the backends read, what ``diff`` compares against.

Readers in ``backends/`` fill these from SDK payloads; ``plan/`` never does I/O. An absent
resource is simply missing from ``ObservedState``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runner.plan.model import Address
from runner.plan.ownership import MANAGED_BY, Ownership

__all__ = [
    "MANAGED_BY",
    "ObservedContainerGroup",
    "ObservedResourceGroup",
    "ObservedState",
    "Ownership",
]

# Instance states after which a run-to-completion group has nothing left to do.
FINISHED_STATES = frozenset({"Succeeded", "Failed", "Stopped", "Terminated"})
TERMINAL_PROVISIONING = frozenset({"Succeeded", "Failed", "Canceled"})


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ObservedResourceGroup(Frozen):
    name: str
    subscription: str = ""
    location: str = ""
    tags: dict[str, str] = Field(default_factory=dict)  # user tags only
    ownership: Ownership = Field(default_factory=Ownership)
    provisioning_state: str | None = None


class ObservedContainer(Frozen):
    name: str
    state: str | None = None  # Waiting, Running, Terminated
    exit_code: int | None = None
    restart_count: int | None = None
    detail_status: str | None = None


class ObservedContainerGroup(Frozen):
    name: str
    resource_group: str
    subscription: str = ""
    location: str = ""
    tags: dict[str, str] = Field(default_factory=dict)  # user tags only
    ownership: Ownership = Field(default_factory=Ownership)
    definition: dict[str, Any] = Field(default_factory=dict)  # canonical form, read back
    provisioning_state: str | None = None
    instance_state: str | None = None  # None when the payload carried no instance view
    containers: tuple[ObservedContainer, ...] = ()
    ip: str | None = None
    fqdn: str | None = None

    @property
    def finished(self) -> bool:
        return self.instance_state in FINISHED_STATES

    @property
    def deleting(self) -> bool:
        return (self.provisioning_state or "").lower() == "deleting"


class ObservedState(Frozen):
    """Everything read for one plan, keyed by address (``ResourceGroup/<rg>``,
    ``ContainerGroup/<rg>/<name>``); lookups ignore case as ARM names do."""

    resource_groups: dict[Address, ObservedResourceGroup] = Field(default_factory=dict)
    container_groups: dict[Address, ObservedContainerGroup] = Field(default_factory=dict)

    def resource_group(self, name: str) -> ObservedResourceGroup | None:
        return _lookup(self.resource_groups, rg_address(name))

    def container_group(self, rg: str, name: str) -> ObservedContainerGroup | None:
        return _lookup(self.container_groups, group_address(rg, name))


def rg_address(rg: str) -> Address:
    return Address.resource_group(rg)


def group_address(rg: str, name: str) -> Address:
    return Address.container_group(rg, name)


def _lookup(table: dict[Address, Any], address: Address) -> Any:
    if address in table:
        return table[address]
    folded = address.folded()
    for key, value in table.items():
        if key.folded() == folded:
            return value
    return None
