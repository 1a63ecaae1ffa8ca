"""Spec models. Field names here are the spec language; ``schemas/`` is generated from them.

Every model forbids unknown fields. YAML keys are camelCase (``resourceGroup``); Python
attributes are snake_case. Models carry no source positions: the loader maps errors back.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

# Azure Container Instances limits for Linux groups in most regions (per container).
# https://learn.microsoft.com/azure/container-instances/container-instances-region-availability
MAX_CPU_PER_CONTAINER = 4.0
MAX_MEMORY_GB_PER_CONTAINER = 16.0
MAX_CONTAINERS_PER_GROUP = 60
# ARM: 50 tags per resource, names up to 512 characters without <>%&\?/, values up to 256.
# https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations
MAX_TAGS = 50
MAX_TAG_NAME, MAX_TAG_VALUE = 512, 256
TAG_NAME_FORBIDDEN = set("<>%&\\?/")
# Ownership tags runner writes itself (managed-by, runner-spec, runner-workspace,
# runner-hash) plus one fingerprint per secure value.
RUNNER_TAGS = 4

GROUP_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
CONTAINER_NAME = GROUP_NAME
DNS_LABEL = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,90}$")
BLOB_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
        frozen=True,
    )


def parse_duration(value: Any) -> Any:
    """Accept ``20m``, ``1h30m``, ``90s`` or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = DURATION.match(value.strip())
        if match and any(match.groups()):
            h, m, s = (int(g or 0) for g in match.groups())
            return timedelta(hours=h, minutes=m, seconds=s)
        raise ValueError(f"expected a duration such as 20m, 1h30m or 90s, got {value!r}")
    return value


Duration = Annotated[
    timedelta,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION.pattern, "examples": ["20m", "1h30m"]},
                {"type": "number", "minimum": 0},
            ]
        }
    ),
]


def located(message: str, *at: str | int) -> PydanticCustomError:
    """A rule broken below the model being validated: ``at`` is the path, relative to that
    model, of the value to point at (the loader appends it to the error's location)."""
    return PydanticCustomError("spec_rule", message, {"at": list(at)})


def _numbers_as_text(value: Any) -> Any:
    # Azure takes environment values and tags as strings; `NumWords: 5` means "5".
    if isinstance(value, dict):
        return {
            k: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
            for k, v in value.items()
        }
    return value


StringMap = Annotated[dict[str, str], BeforeValidator(_numbers_as_text)]


# --- ContainerGroup ---------------------------------------------------------------


class Port(Model):
    port: int = Field(ge=1, le=65535)
    protocol: Literal["TCP", "UDP"] = "TCP"


class VolumeMount(Model):
    name: str
    mount_path: str
    read_only: bool = False


class Volume(Model):
    """One of ``emptyDir``, ``secret`` (file name -> base64 content) or ``azureFile``."""

    name: str
    empty_dir: dict[str, Any] | None = None
    secret: dict[str, str] | None = None
    azure_file: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Volume:
        sources = [s for s in (self.empty_dir, self.secret, self.azure_file) if s is not None]
        if len(sources) != 1:
            raise ValueError("a volume needs exactly one of emptyDir, secret or azureFile")
        return self


class Container(Model):
    name: str
    image: str = Field(min_length=1)
    cpu: float = Field(1.0, gt=0, le=MAX_CPU_PER_CONTAINER)
    memory_in_gb: float = Field(1.5, gt=0, le=MAX_MEMORY_GB_PER_CONTAINER, alias="memoryInGB")
    ports: list[Port] = Field(default_factory=list)
    command: list[str] | None = None
    env: StringMap = Field(default_factory=dict)
    secure_env: StringMap = Field(default_factory=dict)
    volume_mounts: list[VolumeMount] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not CONTAINER_NAME.match(v):
            raise ValueError(
                "container names are 1-63 lowercase letters, digits and '-', "
                "not starting or ending with '-'"
            )
        return v


class IpAddress(Model):
    type: Literal["Public", "Private"] = "Public"
    dns_name_label: str | None = None
    ports: list[Port] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dns_needs_public(self) -> IpAddress:
        if self.dns_name_label is not None:
            if self.type != "Public":
                raise located(
                    "a DNS name label needs a Public IP address (type is Private)",
                    "dnsNameLabel",
                )
            if not DNS_LABEL.match(self.dns_name_label):
                raise located(
                    "dnsNameLabel is 3-63 lowercase letters, digits and '-', "
                    "starting with a letter",
                    "dnsNameLabel",
                )
        return self


class Collect(Model):
    """Where a run-to-completion group's logs and exit codes go (relative to the cwd)."""

    logs: bool = True
    dir: str | None = None  # default: out/<group name>


Teardown = Literal["never", "onSuccess", "always"]


class ContainerGroup(Model):
    kind: Literal["ContainerGroup"]
    name: str
    resource_group: str
    location: str = "westeurope"
    subscription: str | None = None
    os_type: Literal["Linux", "Windows"] = "Linux"
    restart_policy: Literal["Always", "OnFailure", "Never"] = "Always"
    containers: list[Container] = Field(min_length=1, max_length=MAX_CONTAINERS_PER_GROUP)
    ip_address: IpAddress | None = None
    volumes: list[Volume] = Field(default_factory=list)
    tags: StringMap = Field(default_factory=dict)
    collect: Collect | None = None
    teardown: Teardown = "never"
    vars: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not GROUP_NAME.match(v):
            raise ValueError(
                "container group names are 1-63 lowercase letters, digits and '-', "
                "not starting or ending with '-'"
            )
        return v

    @field_validator("resource_group")
    @classmethod
    def _rg(cls, v: str) -> str:
        if not RESOURCE_GROUP.match(v) or v.endswith("."):
            raise ValueError(
                "resource group names are 1-90 letters, digits, '_', '-', '.', '(' or ')', "
                "not ending with '.'"
            )
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        for name, value in tags.items():
            if name == "managed-by" or name.startswith("runner-"):
                raise located(
                    f"tag {name!r} is reserved: runner writes managed-by and runner-* tags "
                    "to know what it owns",
                    name,
                )
            if len(name) > MAX_TAG_NAME or TAG_NAME_FORBIDDEN & set(name):
                raise located(
                    f"tag names are at most {MAX_TAG_NAME} characters without <>%&\\?/",
                    name,
                )
            if len(value) > MAX_TAG_VALUE:
                raise located(f"tag values are at most {MAX_TAG_VALUE} characters", name)
        return tags

    @model_validator(mode="after")
    def _tag_count(self) -> ContainerGroup:
        secure = sum(len(c.secure_env) for c in self.containers)
        secure += sum(len(v.secret or {}) for v in self.volumes)
        if len(self.tags) + RUNNER_TAGS + secure > MAX_TAGS:
            raise located(
                f"too many tags: ARM allows {MAX_TAGS} per resource and runner needs "
                f"{RUNNER_TAGS + secure} of them (ownership, one per secure value); "
                f"keep at most {MAX_TAGS - RUNNER_TAGS - secure}",
                "tags",
            )
        return self

    @model_validator(mode="after")
    def _unique_container_names(self) -> ContainerGroup:
        seen: set[str] = set()
        for i, c in enumerate(self.containers):
            if c.name in seen:
                raise located(
                    f"container name {c.name!r} is used twice; names must be unique in a group",
                    "containers",
                    i,
                    "name",
                )
            seen.add(c.name)
        return self

    @model_validator(mode="after")
    def _unique_ports(self) -> ContainerGroup:
        seen: dict[int, str] = {}
        for i, c in enumerate(self.containers):
            for j, p in enumerate(c.ports):
                if p.port in seen:
                    raise located(
                        f"port {p.port} is already used by container {seen[p.port]!r}; "
                        "ports must be unique across the group's containers",
                        "containers",
                        i,
                        "ports",
                        j,
                        "port",
                    )
                seen[p.port] = c.name
        return self

    @model_validator(mode="after")
    def _known_volumes(self) -> ContainerGroup:
        volume_names = {v.name for v in self.volumes}
        for i, c in enumerate(self.containers):
            for j, m in enumerate(c.volume_mounts):
                if m.name not in volume_names:
                    known = ", ".join(sorted(volume_names)) or "none"
                    raise located(
                        f"container {c.name!r} mounts unknown volume {m.name!r} (volumes: {known})",
                        "containers",
                        i,
                        "volumeMounts",
                        j,
                        "name",
                    )
        return self

    @property
    def runs_to_completion(self) -> bool:
        return self.restart_policy != "Always"

    @property
    def collect_dir(self) -> str:
        if self.collect and self.collect.dir:
            return self.collect.dir
        return f"out/{self.name}"


# --- BatchJob ---------------------------------------------------------------------


class StorageContainers(Model):
    """Blob container names; empty means ``<spec name>-application`` and so on."""

    application: str | None = None
    input: str | None = None
    output: str | None = None

    @field_validator("application", "input", "output")
    @classmethod
    def _container(cls, v: str | None) -> str | None:
        if v is not None and not BLOB_CONTAINER.match(v):
            raise ValueError(
                "blob container names are 3-63 lowercase letters, digits and single '-'"
            )
        return v


class Storage(Model):
    account: str = "local"
    containers: StorageContainers = Field(default_factory=StorageContainers)


class BatchAccount(Model):
    account: str = "local"
    url: str | None = None  # https://<account>.<region>.batch.azure.com on Azure


class ImageReference(Model):
    publisher: str = "canonical"
    offer: str = "0001-com-ubuntu-server-jammy"
    sku: str = "22_04-lts"
    version: str = "latest"


class StartTask(Model):
    """Files named ``package:<path>`` ship with runner (the task script) and are copied to
    ``AZ_BATCH_NODE_SHARED_DIR``; other entries are paths relative to the spec file."""

    copy_: list[str] = Field(default_factory=list, alias="copy")
    command: str | None = None
    wait_for_success: bool = True


class Pool(Model):
    id: str
    vm_size: str = "STANDARD_D2S_V3"
    nodes: int = Field(1, ge=0, le=1000)
    low_priority_nodes: int = Field(0, ge=0, le=1000)
    image: ImageReference = Field(default_factory=ImageReference)
    node_agent_sku: str = "batch.node.ubuntu 22.04"
    task_slots_per_node: int = Field(1, ge=1, le=256)
    start_task: StartTask | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not BATCH_ID.match(v):
            raise ValueError("Batch ids are 1-64 letters, digits, '-' and '_'")
        return v


class Job(Model):
    id: str

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not BATCH_ID.match(v):
            raise ValueError("Batch ids are 1-64 letters, digits, '-' and '_'")
        return v


class TaskFactory(Model):
    """One task per input file matched by ``forEachFile`` (a glob relative to the spec file).

    ``id``, ``command`` and ``outputs`` are templates over ``file`` (``file.name``,
    ``file.stem``, ``file.suffix``) and ``vars``; they are rendered per file by the planner.
    """

    for_each_file: str
    id: str
    command: str
    outputs: list[str] = Field(default_factory=list)
    max_wall_clock_time: Duration | None = None
    max_retries: int = Field(0, ge=0, le=100)

    _duration = field_validator("max_wall_clock_time", mode="before")(
        classmethod(lambda cls, v: parse_duration(v))
    )


TeardownWhen = Literal["never", "onSuccess", "always"]


class BatchTeardown(Model):
    job: TeardownWhen = "always"
    pool: TeardownWhen = "always"
    containers: TeardownWhen = "onSuccess"


class BatchCollect(Model):
    dir: str


class BatchJob(Model):
    kind: Literal["BatchJob"]
    name: str
    vars: dict[str, Any] = Field(default_factory=dict)
    storage: Storage = Field(default_factory=Storage)
    batch: BatchAccount = Field(default_factory=BatchAccount)
    pool: Pool
    job: Job
    tasks: TaskFactory
    timeout: Duration = timedelta(minutes=30)
    collect: BatchCollect
    teardown: BatchTeardown = Field(default_factory=BatchTeardown)

    _duration = field_validator("timeout", mode="before")(
        classmethod(lambda cls, v: parse_duration(v))
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not GROUP_NAME.match(v):
            raise ValueError(
                "spec names are 1-63 lowercase letters, digits and '-', "
                "not starting or ending with '-'"
            )
        return v

    def container_name(self, role: Literal["application", "input", "output"]) -> str:
        return getattr(self.storage.containers, role) or f"{self.name}-{role}"


Spec = Annotated[ContainerGroup | BatchJob, Field(discriminator="kind")]


class SpecDocument(BaseModel):
    """The root of one YAML document: ``kind`` picks the model."""

    model_config = ConfigDict(extra="forbid")
    spec: Spec
