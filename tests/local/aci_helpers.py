"""Helpers for the local target's ARM tests: group bodies and waiting on live state."""

from __future__ import annotations

from typing import Any

from azure.mgmt.containerinstance.models import (
    Container,
    ContainerGroup,
    ContainerPort,
    EnvironmentVariable,
    ResourceRequests,
    ResourceRequirements,
)


def container(
    name: str,
    image: str,
    command: list[str] | None = None,
    *,
    cpu: float = 0.5,
    memory: float = 0.5,
    env: dict[str, str] | None = None,
    secure_env: dict[str, str] | None = None,
    ports: list[int] | None = None,
) -> Container:
    variables = [EnvironmentVariable(name=k, value=v) for k, v in (env or {}).items()]
    secure = (secure_env or {}).items()
    variables += [EnvironmentVariable(name=k, secure_value=v) for k, v in secure]
    return Container(
        name=name,
        image=image,
        command=command,
        resources=ResourceRequirements(requests=ResourceRequests(cpu=cpu, memory_in_gb=memory)),
        environment_variables=variables or None,
        ports=[ContainerPort(port=p) for p in ports or []] or None,
    )


def group(
    containers: list[Container], restart_policy: str = "Always", **kwargs: Any
) -> ContainerGroup:
    return ContainerGroup(
        location="westeurope",
        containers=containers,
        os_type="Linux",
        restart_policy=restart_policy,
        **kwargs,
    )


def group_state(client: Any, rg: str, name: str) -> str | None:
    return client.container_groups.get(rg, name).instance_view.state
