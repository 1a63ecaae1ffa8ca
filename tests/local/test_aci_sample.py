"""The Azure Container Instances Python sample's own calls, against the printed endpoint.

The sample (seeds: create, get, list, logs, delete) runs as written with only the endpoint,
the credential and ``connection_verify`` changed, plus local images: no registry is
reachable here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from azure.mgmt.containerinstance import ContainerInstanceManagementClient
from azure.mgmt.containerinstance.models import (
    Container,
    ContainerGroup,
    ContainerGroupNetworkProtocol,
    ContainerGroupRestartPolicy,
    ContainerPort,
    EnvironmentVariable,
    IpAddress,
    OperatingSystemTypes,
    Port,
    ResourceRequests,
    ResourceRequirements,
)
from azure.mgmt.resource.resources import ResourceManagementClient
from waiting import wait_for


def printed_status() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "runner", "local", "status", "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return dict(json.loads(out.stdout))


def create_container_group(aci_client: Any, resource_group: Any, name: str, image: str) -> Any:
    container_resource_requests = ResourceRequests(memory_in_gb=1, cpu=1.0)
    container_resource_requirements = ResourceRequirements(requests=container_resource_requests)
    container = Container(
        name=name,
        image=image,
        resources=container_resource_requirements,
        ports=[ContainerPort(port=80)],
    )
    ports = [Port(protocol=ContainerGroupNetworkProtocol.tcp, port=80)]
    group_ip_address = IpAddress(ports=ports, dns_name_label=name, type="Public")
    group = ContainerGroup(
        location=resource_group.location,
        containers=[container],
        os_type=OperatingSystemTypes.linux,
        ip_address=group_ip_address,
    )
    aci_client.container_groups.begin_create_or_update(resource_group.name, name, group).result()
    return aci_client.container_groups.get(resource_group.name, name)


def create_container_group_multi(
    aci_client: Any, resource_group: Any, name: str, image_1: str, image_2: str
) -> Any:
    container_resource_requests = ResourceRequests(memory_in_gb=2, cpu=1.0)
    container_resource_requirements = ResourceRequirements(requests=container_resource_requests)
    container_1 = Container(
        name=name + "-1",
        image=image_1,
        resources=container_resource_requirements,
        ports=[ContainerPort(port=80)],
    )
    container_2 = Container(
        name=name + "-2", image=image_2, resources=container_resource_requirements
    )
    ports = [Port(protocol=ContainerGroupNetworkProtocol.tcp, port=80)]
    group_ip_address = IpAddress(ports=ports, dns_name_label=name, type="Public")
    group = ContainerGroup(
        location=resource_group.location,
        containers=[container_1, container_2],
        os_type=OperatingSystemTypes.linux,
        ip_address=group_ip_address,
    )
    aci_client.container_groups.begin_create_or_update(resource_group.name, name, group)
    return aci_client.container_groups.get(resource_group.name, name)


def run_task_based_container(
    aci_client: Any, resource_group: Any, name: str, image: str, start_command_line: str
) -> tuple[Any, Any]:
    env_var_1 = EnvironmentVariable(name="NumWords", value="5")
    env_var_2 = EnvironmentVariable(name="MinLength", value="8")
    container_resource_requests = ResourceRequests(memory_in_gb=1, cpu=1.0)
    container_resource_requirements = ResourceRequirements(requests=container_resource_requests)
    container = Container(
        name=name,
        image=image,
        resources=container_resource_requirements,
        command=start_command_line.split(),
        environment_variables=[env_var_1, env_var_2],
    )
    group = ContainerGroup(
        location=resource_group.location,
        containers=[container],
        os_type=OperatingSystemTypes.linux,
        restart_policy=ContainerGroupRestartPolicy.never,
    )
    result = aci_client.container_groups.begin_create_or_update(resource_group.name, name, group)
    while result.done() is False:
        time.sleep(1)
    container_group = aci_client.container_groups.get(resource_group.name, name)
    logs = aci_client.containers.list_logs(resource_group.name, name, container.name)
    return container_group, logs


def test_aci_sample_runs_against_the_printed_endpoint(
    emulator: dict[str, Any], test_image: str, unique_name: Any, arm_credential: Any
) -> None:
    status = printed_status()
    endpoint = status["arm"]["endpoint"]
    options = {
        "base_url": endpoint,
        "credential_scopes": [f"{endpoint}/.default"],
        "connection_verify": status["ca_bundle"],
    }
    subscription = status["arm"]["subscription"]
    aciclient = ContainerInstanceManagementClient(arm_credential, subscription, **options)
    resclient = ResourceManagementClient(arm_credential, subscription, **options)

    resource_group_name = unique_name("aci-rg")
    container_group_name = unique_name("aci")
    multi_container_group_name = container_group_name + "-multi"
    task_container_group_name = container_group_name + "-task"
    resclient.resource_groups.create_or_update(resource_group_name, {"location": "eastus"})
    resource_group = resclient.resource_groups.get(resource_group_name)

    single = create_container_group(aciclient, resource_group, container_group_name, test_image)
    assert single.ip_address.fqdn == f"{container_group_name}.eastus.azurecontainer.io"
    multi = create_container_group_multi(
        aciclient, resource_group, multi_container_group_name, test_image, test_image
    )
    assert [c.name for c in multi.containers] == [
        multi_container_group_name + "-1",
        multi_container_group_name + "-2",
    ]
    task, logs = run_task_based_container(
        aciclient, resource_group, task_container_group_name, test_image, "echo romeo and juliet"
    )
    assert str(task.provisioning_state).lower() == "succeeded"
    assert logs.content is not None
    wait_for(
        lambda: (
            aciclient.containers.list_logs(
                resource_group_name, task_container_group_name, task_container_group_name
            ).content
        ),
        lambda text: "romeo and juliet" in text,
        "task output",
    )

    listed = [
        g.name for g in aciclient.container_groups.list_by_resource_group(resource_group_name)
    ]
    assert sorted(listed) == sorted(
        [container_group_name, multi_container_group_name, task_container_group_name]
    )

    details = aciclient.container_groups.get(resource_group_name, multi_container_group_name)
    assert details.location == "eastus" and details.ip_address.ip
    for container in details.containers:
        assert container.image == test_image
        assert container.instance_view.current_state.state in ("Waiting", "Running", "Terminated")

    wait_for(
        lambda: (
            aciclient.container_groups.get(
                resource_group_name, multi_container_group_name
            ).provisioning_state
        ),
        lambda s: s == "Succeeded",
        "multi-container group provisioned",
    )
    for name in (container_group_name, multi_container_group_name, task_container_group_name):
        aciclient.container_groups.begin_delete(resource_group_name, name).result()
    resclient.resource_groups.begin_delete(resource_group_name).result()
    assert not resclient.resource_groups.check_existence(resource_group_name)
