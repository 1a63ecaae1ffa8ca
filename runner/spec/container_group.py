"""``kind: ContainerGroup``: an Azure Container Instances group and runner's run fields."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from runner.spec.base import (
    CONTAINER_NAME,
    DNS_LABEL,
    GROUP_NAME,
    MAX_CONTAINERS_PER_GROUP,
    MAX_CPU_PER_CONTAINER,
    MAX_MEMORY_GB_PER_CONTAINER,
    MAX_TAG_NAME,
    MAX_TAG_VALUE,
    MAX_TAGS,
    RESOURCE_GROUP,
    RUNNER_TAGS,
    TAG_NAME_FORBIDDEN,
    CostSettings,
    Duration,
    EnvMap,
    Model,
    Number,
    StringMap,
    WholeNumber,
    located,
    parse_ttl,
)


class Port(Model):
    port: WholeNumber = Field(ge=1, le=65535)
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
    cpu: Number = Field(1.0, gt=0, le=MAX_CPU_PER_CONTAINER)
    memory_in_gb: Number = Field(1.5, gt=0, le=MAX_MEMORY_GB_PER_CONTAINER, alias="memoryInGB")
    ports: list[Port] = Field(default_factory=list)
    command: list[str] | None = None
    env: EnvMap = Field(default_factory=dict)
    secure_env: EnvMap = Field(default_factory=dict)
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
    # How long what apply makes may live: it is tagged with an expiry time, and
    # ``runner gc`` deletes it once that has passed.
    ttl: Duration | None = None
    cost: CostSettings = CostSettings()
    vars: dict[str, Any] = Field(default_factory=dict)

    _ttl = field_validator("ttl", mode="before")(classmethod(lambda cls, v: parse_ttl(v)))

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
    def _ip_ports(self) -> ContainerGroup:
        if self.ip_address is None:
            return self
        exposed = {p.port for c in self.containers for p in c.ports}
        if not self.ip_address.ports and not exposed:
            # Azure answers 400 MissingIpAddressPorts to an IP address without ports.
            raise located(
                "an IP address needs ports: list them in ipAddress.ports or on the containers",
                "ipAddress",
            )
        for j, p in enumerate(self.ip_address.ports):
            if exposed and p.port not in exposed:
                # ACI does not map ports: a group port no container listens on is unreachable.
                raise located(
                    f"ipAddress port {p.port} is not a port of any container "
                    "(ACI does not map ports; add it to the container that serves it)",
                    "ipAddress",
                    "ports",
                    j,
                    "port",
                )
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
