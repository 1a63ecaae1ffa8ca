"""What the container-group state asks of a runtime (Docker, or instant for HTTP tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ContainerDefinition:
    name: str
    image: str
    command: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()  # secure values included: the runtime needs them
    cpu: float = 1.0
    memory_gb: float = 1.5
    ports: tuple[int, ...] = ()


@dataclass(frozen=True)
class GroupDefinition:
    key: str  # "sub/rg/name", lower case: unique per target
    name: str
    restart_policy: str  # Always | OnFailure | Never
    containers: tuple[ContainerDefinition, ...]
    os_type: str = "Linux"


@dataclass
class RunFailure(Exception):
    """The group could not start: ``reason`` says what to do; ``events`` per container."""

    reason: str
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Per container, the ``detailStatus`` its waiting state shows (ErrImagePull, StartError).
    waiting: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.reason


class GroupRuntime(Protocol):
    def start(self) -> None:
        """Begins background work (called once the emulator serves)."""

    def stop(self) -> None:
        """Stops background work and removes every container the runtime made."""

    def run(self, group: GroupDefinition) -> dict[str, list[dict[str, Any]]]:
        """Creates and starts the group's containers, replacing any it ran before.

        Returns the events of each container; raises ``RunFailure`` when it cannot start.
        """
        ...

    def observe(self, group: GroupDefinition) -> dict[str, dict[str, Any]] | None:
        """Each container's ``restartCount``, ``currentState`` and ``previousState``, as
        ARM's ContainerPropertiesInstanceView; None when the group has no containers."""
        ...

    def remove(self, key: str) -> None:
        """Stops and removes the group's containers (absent ones are fine)."""

    def logs(
        self, group: GroupDefinition, container: str, tail: int | None, timestamps: bool = False
    ) -> str | None:
        """The container's output (its last ``tail`` lines, each after its time with
        ``timestamps``), or None when the container does not exist."""
        ...
