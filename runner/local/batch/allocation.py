"""A pool's resize as the scheduler carries it out: the nodes it gains, the ones that leave
first, and how it settles (its targets met, or an ``AllocationFailed`` resize error)."""

from __future__ import annotations

from runner.local.batch import defaults
from runner.local.batch.runtime import PoolRuntime
from runner.local.batch.state import Doc
from runner.local.batch.wire import now_iso, set_state


def new_node(pool: Doc, nodes: dict[str, Doc], node_id: str, index: int) -> Doc:
    """The document of the pool's ``index``-th node, as Batch shows one that is starting."""
    now = now_iso()
    # Dedicated nodes first, then the low-priority (spot) ones the target asks for.
    dedicated = (
        sum(1 for n in nodes.values() if n.get("isDedicated", True)) < pool["targetDedicatedNodes"]
    )
    return {
        "id": node_id,
        "state": "starting",
        "schedulingState": "enabled",
        "stateTransitionTime": now,
        "allocationTime": now,
        "ipAddress": "127.0.0.1",
        "affinityId": f"TVM:{node_id}",
        "vmSize": pool["vmSize"],
        "totalTasksRun": 0,
        "totalTasksSucceeded": 0,
        "runningTasksCount": 0,
        "runningTaskSlotsCount": 0,
        "isDedicated": dedicated,
        **defaults.node_extras(pool, index),
    }


def leaving(nodes: dict[str, Doc], record: PoolRuntime, count: int) -> list[str]:
    """The ``count`` nodes a shrinking pool gives up: those a removenodes call chose, then
    those already leaving or preempted, then idle ones, as Batch prefers; the rest requeue
    their tasks (or finish them first, as the deallocation option says)."""
    chosen = set(record.remove or ())
    gone = ("leavingpool", "preempted")

    def first(n: str) -> tuple[bool, bool, int]:
        return n not in chosen, nodes[n]["state"] not in gone, nodes[n]["runningTasksCount"]

    return sorted(nodes, key=first)[:count]


def settled(pool: Doc, record: PoolRuntime) -> None:
    """Ends a resize that met its targets."""
    pool["currentDedicatedNodes"] = pool["targetDedicatedNodes"]
    pool["currentLowPriorityNodes"] = pool["targetLowPriorityNodes"]
    set_state(pool, "steady", "allocationState")
    record.steady_at, record.remove = None, None


def allocation_failed(pool: Doc, record: PoolRuntime, nodes: dict[str, Doc], reason: str) -> None:
    """Ends a resize that could not make every node: the pool settles with the nodes it has,
    its targets kept, and an ``AllocationFailed`` resize error per kind of node it lacks
    (the shape of Batch's resize errors: code, message and a ``Reason`` value)."""
    dedicated = sum(1 for n in nodes.values() if n.get("isDedicated", True))
    pool["currentDedicatedNodes"] = dedicated
    pool["currentLowPriorityNodes"] = len(nodes) - dedicated
    kinds = [
        name
        for name, current, target in (
            ("dedicated", "currentDedicatedNodes", "targetDedicatedNodes"),
            ("low priority", "currentLowPriorityNodes", "targetLowPriorityNodes"),
        )
        if pool[current] < pool[target]
    ]
    pool["resizeErrors"] = [
        {
            "code": "AllocationFailed",
            "message": f"Desired number of {kind} nodes could not be allocated",
            "values": [{"name": "Reason", "value": reason}],
        }
        for kind in kinds
    ]
    set_state(pool, "steady", "allocationState")
    record.steady_at, record.remove = None, None
