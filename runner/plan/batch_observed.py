"""Live Batch and Blob state as plain data: what ``backends/batch.py`` and
``backends/blob.py`` read, what ``plan/batch.py`` compares against. An absent resource is
``None`` or missing from its mapping."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runner.plan.ownership import Ownership
from runner.plan.record_model import ResultsRecord


@dataclass(frozen=True)
class ObservedPool:
    id: str
    state: str  # active, deleting
    owner: Ownership
    allocation_state: str = "steady"
    vm_size: str = ""
    image: dict[str, str] = field(default_factory=dict)
    node_agent_sku: str = ""
    task_slots_per_node: int = 1
    network: bool = False  # whether a network configuration is set
    nodes: int = 0
    low_priority_nodes: int = 0
    start_task: dict[str, Any] | None = None  # commandLine, files, waitForSuccess
    # type, containerImageNames, containerRegistries (registryServer, username): Batch
    # never returns a registry's password.
    container_configuration: dict[str, Any] | None = None
    # formula, evaluationInterval (ISO 8601) of a pool with enableAutoScale; its node
    # counts are then the formula's latest targets, not a setting.
    auto_scale: dict[str, Any] | None = None

    def canonical(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "vmSize": self.vm_size.lower(),
            "image": {k: str(v).lower() for k, v in self.image.items()},
            "nodeAgentSku": self.node_agent_sku.lower(),
            "taskSlotsPerNode": self.task_slots_per_node,
            "network": True if self.network else None,
            "nodes": self.nodes,
            "lowPriorityNodes": self.low_priority_nodes,
            "startTask": self.start_task,
        }
        if self.container_configuration is not None:
            out["containerConfiguration"] = self.container_configuration
        if self.auto_scale is not None:
            out.update(nodes=None, lowPriorityNodes=None, autoScale=self.auto_scale)
        return out


@dataclass(frozen=True)
class ObservedJob:
    id: str
    state: str  # active, disabling, disabled, enabling, terminating, completed, deleting
    pool_id: str
    owner: Ownership
    uses_task_dependencies: bool = False
    environment: dict[str, str] = field(default_factory=dict)  # commonEnvironmentSettings


@dataclass(frozen=True)
class ObservedTask:
    id: str
    state: str  # active, preparing, running, completed
    exit_code: int | None = None
    failure: str | None = None  # failureInfo code (e.g. a resource file that failed)
    identity: str | None = None  # the ``DesiredTask.identity`` it was added with, if any
    command_line: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.state == "completed" and self.exit_code == 0 and self.failure is None

    @property
    def why(self) -> str:
        """Why a completed task failed: its exit code first (Batch also reports a non-zero
        exit as ``FailureExitCode``), else the failure Batch reported."""
        if self.exit_code not in (None, 0):
            return f"exit code {self.exit_code}"
        return self.failure or "failed"


@dataclass(frozen=True)
class ObservedBlob:
    container: str
    name: str
    md5: str | None
    owner: Ownership = field(default_factory=Ownership)
    etag: str | None = None


@dataclass(frozen=True)
class ObservedBatch:
    pool: ObservedPool | None = None
    job: ObservedJob | None = None
    tasks: dict[str, ObservedTask] = field(default_factory=dict)
    containers: dict[str, Ownership] = field(default_factory=dict)  # existing container -> owner
    blobs: dict[tuple[str, str], ObservedBlob] = field(default_factory=dict)
    # For a pool that runs containers: the capabilities the account's supported-images
    # entry of its image lists, or None when the account lists no such image.
    image_capabilities: tuple[str, ...] | None = None
    # The output container's blobs by name, and the results record found in it (None:
    # no record, or the container is gone).
    outputs: dict[str, ObservedBlob] = field(default_factory=dict)
    record: ResultsRecord | None = None
