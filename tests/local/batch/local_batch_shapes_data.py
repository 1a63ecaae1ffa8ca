"""Top-level properties the Batch REST examples show for a pool and a task.

From azure-rest-api-specs, specification/batch/data-plane/Azure.Batch: PoolGet_*.json and
TaskGet/TaskList examples (properties the emulator models; statistics left out).
"""

POOL_KEYS = {
    "id",
    "url",
    "eTag",
    "lastModified",
    "creationTime",
    "state",
    "stateTransitionTime",
    "allocationState",
    "allocationStateTransitionTime",
    "vmSize",
    "resizeTimeout",
    "currentDedicatedNodes",
    "targetDedicatedNodes",
    "currentLowPriorityNodes",
    "targetLowPriorityNodes",
    "enableAutoScale",
    "enableInterNodeCommunication",
    "taskSlotsPerNode",
    "taskSchedulingPolicy",
    "virtualMachineConfiguration",
}

TASK_KEYS = {
    "id",
    "url",
    "eTag",
    "lastModified",
    "creationTime",
    "state",
    "stateTransitionTime",
    "previousState",
    "previousStateTransitionTime",
    "commandLine",
    "constraints",
    "requiredSlots",
    "executionInfo",
    "nodeInfo",
}
