"""``kind: Workflow``: steps, each a container group or a Batch job, and what they hand on.

A step is written inline (``group:`` or ``batch:``, the kind's fields without ``kind``) or
refers to another spec file (``spec:``, with ``vars`` overriding that file's). The bodies
are kept here as written; ``runner.spec.workflow_steps`` validates them as their kind and
``runner.spec.workflow_graph`` checks what the steps say of each other.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from runner.spec.base import BLOB_CONTAINER, Model, located, spec_name

STEP_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
# Input and output names become environment names (RUNNER_IN_<NAME>, RUNNER_OUT_<NAME>).
HANDOFF_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
BODIES = ("group", "batch", "spec")


def _step_name(name: str) -> str:
    if not STEP_NAME.match(name):
        raise located(
            f"step name {name!r} is not 1-32 lowercase letters, digits and '-', "
            "not starting or ending with '-'"
        )
    return name


def _handoff_name(name: str) -> str:
    if not HANDOFF_NAME.match(name):
        raise located(
            f"input and output names are a lowercase letter, then lowercase letters, digits "
            f"and '_' (they become environment names such as RUNNER_IN_TEXTS): {name!r} is not"
        )
    return name


StepName = Annotated[str, AfterValidator(_step_name)]
HandoffName = Annotated[str, AfterValidator(_handoff_name)]


class StepInput(Model):
    """Local files (a glob relative to the workflow file's folder), or an output of an
    earlier step (``<step>.<output>``): exactly one."""

    files: str | None = None
    from_: str | None = Field(default=None, alias="from")

    @model_validator(mode="after")
    def _one_source(self) -> StepInput:
        if (self.files is None) == (self.from_ is None):
            both = self.files is not None
            raise located(
                "an input takes exactly one of files (a glob of local files) and from "
                "(<step>.<output>)" + ("; it has both" if both else ""),
                *(("from",) if both else ()),
            )
        return self

    @property
    def step(self) -> str | None:
        """The step a ``from`` input comes from."""
        return self.from_.partition(".")[0] if self.from_ is not None else None

    @property
    def output(self) -> str | None:
        """The output of that step."""
        return self.from_.partition(".")[2] if self.from_ is not None else None


class StepCollect(Model):
    """What of a step comes down to the machine running runner: ``dir`` is relative to the
    working directory; ``outputs`` are globs over the step's output file names (unset:
    every output the step declares)."""

    dir: str
    outputs: list[str] | None = Field(default=None, min_length=1)


class Step(Model):
    group: dict[str, Any] | None = None
    batch: dict[str, Any] | None = None
    spec: str | None = None
    vars: dict[str, Any] | None = None
    needs: list[str] = Field(default_factory=list)
    inputs: dict[HandoffName, StepInput] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"pattern": HANDOFF_NAME.pattern}}
    )
    outputs: dict[HandoffName, str] = Field(
        default_factory=dict, json_schema_extra={"propertyNames": {"pattern": HANDOFF_NAME.pattern}}
    )
    collect: StepCollect | None = None

    @model_validator(mode="after")
    def _one_body(self) -> Step:
        given = [name for name in BODIES if getattr(self, name) is not None]
        if len(given) != 1:
            raise located(
                "a step takes exactly one of group (an inline ContainerGroup), batch (an "
                "inline BatchJob) and spec (a file holding one)"
                + (f"; it has {' and '.join(given)}" if given else ""),
                *given[1:2],
            )
        if self.vars is not None and self.spec is None:
            raise located(
                "vars goes only with spec (it overrides that file's vars); an inline step "
                "sees the workflow's vars",
                "vars",
            )
        return self

    @property
    def body(self) -> Literal["group", "batch", "spec"]:
        """Which of group, batch and spec the step is written with."""
        if self.group is not None:
            return "group"
        return "batch" if self.batch is not None else "spec"


class WorkflowStorage(Model):
    """Where the steps hand files on and leave their records: a Blob container of the
    account (unset: named after the workflow)."""

    account: str = "local"
    container: str | None = None

    @field_validator("container")
    @classmethod
    def _container(cls, v: str | None) -> str | None:
        if v is not None and not BLOB_CONTAINER.match(v):
            raise ValueError(
                "blob container names are 3-63 lowercase letters, digits and single '-', "
                "starting and ending with a letter or digit"
            )
        return v


class Workflow(Model):
    kind: Literal["Workflow"]
    name: str
    vars: dict[str, Any] = Field(default_factory=dict)
    storage: WorkflowStorage = Field(default_factory=WorkflowStorage)
    steps: dict[StepName, Step] = Field(
        json_schema_extra={"propertyNames": {"pattern": STEP_NAME.pattern}, "minProperties": 1}
    )

    _name = field_validator("name")(classmethod(lambda cls, v: spec_name(v)))

    @field_validator("steps")
    @classmethod
    def _some_steps(cls, v: dict[str, Step]) -> dict[str, Step]:
        if not v:
            raise ValueError("a workflow needs at least one step")
        return v

    @model_validator(mode="after")
    def _container_name(self) -> Workflow:
        if self.storage.container is None and not BLOB_CONTAINER.match(self.name):
            raise located(
                f"the workflow's name {self.name!r} names its Blob container, and is not a "
                "container name (3-63 lowercase letters, digits and single '-'): give "
                "storage.container",
                "name",
            )
        return self

    @property
    def container(self) -> str:
        """The Blob container of hand-offs and step records."""
        return self.storage.container or self.name
