"""Spec models. Field names here are the spec language; ``schemas/`` is generated from them.

Every model forbids unknown fields. YAML keys are camelCase (``resourceGroup``); Python
attributes are snake_case. Models carry no source positions: the loader maps errors back.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from runner.spec.base import (
    BATCH_ID,
    GROUP_NAME,
    MAX_CONTAINERS_PER_GROUP,
    MAX_CPU_PER_CONTAINER,
    MAX_MEMORY_GB_PER_CONTAINER,
    CostSettings,
    Duration,
    Model,
    located,
    parse_duration,
)
from runner.spec.batch_job import (
    BatchAccount,
    BatchCollect,
    BatchJob,
    BatchTeardown,
    DependsOn,
    ImageReference,
    Job,
    MergeTask,
    Pool,
    StartTask,
    Storage,
    StorageContainers,
    TaskFactory,
    TeardownWhen,
)
from runner.spec.container_group import (
    Collect,
    Container,
    ContainerGroup,
    IpAddress,
    Port,
    Teardown,
    Volume,
    VolumeMount,
)
from runner.spec.workflow import Step, StepCollect, StepInput, Workflow, WorkflowStorage

__all__ = [
    "BATCH_ID",
    "GROUP_NAME",
    "MAX_CONTAINERS_PER_GROUP",
    "MAX_CPU_PER_CONTAINER",
    "MAX_MEMORY_GB_PER_CONTAINER",
    "BatchAccount",
    "BatchCollect",
    "BatchJob",
    "BatchTeardown",
    "Collect",
    "Container",
    "ContainerGroup",
    "CostSettings",
    "DependsOn",
    "Duration",
    "ImageReference",
    "IpAddress",
    "Job",
    "MergeTask",
    "Model",
    "Pool",
    "Port",
    "Spec",
    "SpecDocument",
    "StartTask",
    "Step",
    "StepCollect",
    "StepInput",
    "Storage",
    "StorageContainers",
    "TaskFactory",
    "Teardown",
    "TeardownWhen",
    "Volume",
    "VolumeMount",
    "Workflow",
    "WorkflowStorage",
    "located",
    "parse_duration",
]

Spec = Annotated[ContainerGroup | BatchJob | Workflow, Field(discriminator="kind")]


class SpecDocument(BaseModel):
    """The root of one YAML document: ``kind`` picks the model."""

    model_config = ConfigDict(extra="forbid")
    spec: Spec
