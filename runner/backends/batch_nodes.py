"""A Batch pool's ability to run tasks: its allocation (with resize errors), its nodes'
states and start task outcomes, and the tail of a failed start task's stderr.

The monitor reads these only when tasks wait and nothing moves (see
``runner/engine/batch_health.py``), never on every poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

# azure-batch 15.1 takes this type in begin_reboot_node but does not export it.
from azure.batch.models._models import BatchNodeRebootOptions
from azure.core.exceptions import AzureError, ResourceNotFoundError

from runner.backends.errors import translate

if TYPE_CHECKING:
    from azure.batch import BatchClient

POOL_SELECT = [
    "id",
    "state",
    "allocationState",
    "currentDedicatedNodes",
    "currentLowPriorityNodes",
    "targetDedicatedNodes",
    "targetLowPriorityNodes",
    "resizeErrors",
    "enableAutoScale",
]
NODE_SELECT = ["id", "state", "startTaskInfo", "errors"]
START_TASK_STDERR = "startup/stderr.txt"  # relative to the node root, as Batch serves it
STDERR_BYTES = 4096  # only the end of the file is worth showing


@dataclass(frozen=True)
class PoolAllocation:
    id: str
    state: str  # active, deleting
    allocation_state: str  # steady, resizing, stopping
    current_nodes: int
    target_nodes: int
    resize_errors: tuple[str, ...]  # "Code: message"
    auto_scale: bool = False  # its formula sets its targets at each evaluation


@dataclass(frozen=True)
class NodeHealth:
    id: str
    state: str  # Batch's lower-case node state: idle, running, starttaskfailed, ...
    start_task_exit_code: int | None = None
    start_task_failure: str | None = None  # "Code: message" from startTaskInfo.failureInfo
    # "Code: message" of each error the node reports (an image it could not pull, ...)
    errors: tuple[str, ...] = ()


def _text(value: Any) -> str:
    return str(getattr(value, "value", value) or "").lower()


def read_allocation(client: BatchClient, pool_id: str) -> PoolAllocation | None:
    """The pool's allocation in one request; None when the pool does not exist."""
    try:
        pool = client.get_pool(pool_id, select=POOL_SELECT)
    except ResourceNotFoundError:
        return None
    except AzureError as exc:
        raise translate(exc) from exc
    errors = tuple(
        ": ".join(p for p in (e.code, e.message) if p) or "resize error"
        for e in pool.resize_errors or ()
    )
    return PoolAllocation(
        id=pool.id or pool_id,
        state=_text(pool.state),
        allocation_state=_text(pool.allocation_state),
        current_nodes=(pool.current_dedicated_nodes or 0) + (pool.current_low_priority_nodes or 0),
        target_nodes=(pool.target_dedicated_nodes or 0) + (pool.target_low_priority_nodes or 0),
        resize_errors=errors,
        auto_scale=bool(pool.enable_auto_scale),
    )


def _node_error(error: Any) -> str:
    """``Code: message: detail...``; the details say what to do (which image to load)."""
    details = [d.value for d in error.error_details or () if d.value]
    return ": ".join(p for p in (error.code, error.message, *details) if p) or "error"


def read_nodes(client: BatchClient, pool_id: str) -> list[NodeHealth]:
    """Every node of the pool with its state and start task outcome (one paged list)."""
    try:
        nodes = list(client.list_nodes(pool_id, select=NODE_SELECT))
    except ResourceNotFoundError:
        return []
    except AzureError as exc:
        raise translate(exc) from exc
    out = []
    for node in nodes:
        info = node.start_task_info
        failure = info.failure_info if info else None
        out.append(
            NodeHealth(
                id=node.id or "",
                state=_text(node.state),
                start_task_exit_code=info.exit_code if info else None,
                start_task_failure=": ".join(p for p in (failure.code, failure.message) if p)
                if failure
                else None,
                errors=tuple(_node_error(e) for e in node.errors or ()),
            )
        )
    return out


def start_task_stderr(client: BatchClient, pool_id: str, node_id: str) -> str:
    """The end of the node's start task stderr; empty when it cannot be read (a node
    gone, a file never written): it only adds detail to an error already known."""
    try:
        chunks = client.download_node_file(pool_id, node_id, START_TASK_STDERR)
        data = b"".join(chunks)
    except AzureError:
        return ""
    return data[-STDERR_BYTES:].decode("utf-8", errors="replace")


# Batch reboots only nodes in these states; others are joining or leaving the pool.
REBOOTABLE = frozenset({"idle", "running", "starttaskfailed", "unusable"})


def reboot_nodes(client: BatchClient, pool_id: str) -> int:
    """Reboot the pool's nodes, requeueing their running tasks, so that each runs the
    pool's current start task again; returns how many were asked to."""
    rebooted = 0
    for node in read_nodes(client, pool_id):
        if node.state not in REBOOTABLE:
            continue
        try:
            client.begin_reboot_node(
                pool_id,
                node.id,
                BatchNodeRebootOptions(node_reboot_kind="requeue"),
                polling_interval=1,
            )
        except ResourceNotFoundError:
            continue
        except Exception as exc:
            raise translate(exc) from exc
        rebooted += 1
    return rebooted
