"""The Azure SDK's own tests of azure-mgmt-containerinstance, ported with only the credential
and endpoint changed (``tests/disable_test_mgmt_containerinstance.py``, the generated
``tests/test_container_instance_management_*_test.py``), plus the provider checks SDK flows
make first. Groups run on the instant runtime, so the SDK test's image needs no registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.containerinstance.models import Volume, VolumeMount

LOCATION = "westus"


@pytest.fixture
def client(instant_target: dict[str, Any], make_arm_client: Callable[..., Any]) -> Any:
    return make_arm_client(instant_target, "aci")


@pytest.fixture
def resources(instant_target: dict[str, Any], make_arm_client: Callable[..., Any]) -> Any:
    return make_arm_client(instant_target, "resource")


@pytest.fixture
def resource_group(resources: Any, unique_name: Callable[[str], str]) -> Any:
    group = resources.resource_groups.create_or_update(unique_name("sdk"), {"location": LOCATION})
    yield group
    resources.resource_groups.begin_delete(group.name).result()


def test_container_instance(client: Any, resource_group: Any) -> None:
    """disable_test_mgmt_containerinstance.test_container_instance, on the current SDK."""
    container_group_name = "pycontainer26441510"
    image = "alpine:latest"
    os_type = "Linux"
    cpu = 1
    memory = 1
    restart_policy = "OnFailure"
    livenessprob_period_seconds = 5
    log_analytics_workspace_id = "workspaceId"
    log_analytics_workspace_key = "workspaceKey"
    identity_system_assigned = "SystemAssigned"

    empty_volume = Volume(name="empty-volume", empty_dir={})
    volume_mount = VolumeMount(name="empty-volume", mount_path="/mnt/mydir")

    poller = client.container_groups.begin_create_or_update(
        resource_group.name,
        container_group_name,
        {
            "identity": {"type": identity_system_assigned},
            "location": LOCATION,
            "containers": [
                {
                    "name": container_group_name,
                    "image": image,
                    "resources": {"requests": {"memory_in_gb": memory, "cpu": cpu}},
                    "volume_mounts": [volume_mount],
                    "liveness_probe": {
                        "exec": {"command": ["cat/tmp/healthy"]},
                        "periodSeconds": livenessprob_period_seconds,
                    },
                }
            ],
            "os_type": os_type,
            "restart_policy": restart_policy,
            "diagnostics": {
                "log_analytics": {
                    "workspace_id": log_analytics_workspace_id,
                    "workspace_key": log_analytics_workspace_key,
                }
            },
            "volumes": [empty_volume],
        },
    )
    container_group = poller.result()

    for group in (
        container_group,
        client.container_groups.get(resource_group.name, container_group_name),
    ):
        assert group.name == container_group_name
        assert group.location == LOCATION
        assert group.identity.type == identity_system_assigned
        assert group.identity.principal_id and group.identity.tenant_id
        assert group.os_type == os_type
        assert group.restart_policy == restart_policy
        assert group.diagnostics.log_analytics.workspace_id == log_analytics_workspace_id
        assert group.diagnostics.log_analytics.workspace_key is None  # never returned
        assert group.containers[0].name == container_group_name
        assert group.containers[0].image == image
        assert group.containers[0].resources.requests.memory_in_gb == memory
        assert group.containers[0].resources.requests.cpu == cpu
        assert group.volumes[0].name == empty_volume.name
        assert group.containers[0].liveness_probe.period_seconds == livenessprob_period_seconds

    container_groups = list(client.container_groups.list_by_resource_group(resource_group.name))
    assert len(container_groups) == 1
    assert container_groups[0].name == container_group_name
    assert container_groups[0].location == LOCATION
    assert container_groups[0].os_type == os_type
    assert container_groups[0].restart_policy == restart_policy
    assert container_groups[0].volumes[0].name == empty_volume.name
    assert container_groups[0].instance_view is None  # lists carry no instance view

    terminal_size = {"rows": 24, "cols": 80}
    command = "/bin/bash"
    exec_response = client.containers.execute_command(
        resource_group.name,
        container_group.name,
        container_group.containers[0].name,
        {"command": command, "terminal_size": terminal_size},
    )
    assert exec_response.web_socket_uri is not None
    assert exec_response.password is not None

    logs = client.containers.list_logs(
        resource_group.name, container_group.name, container_group.containers[0].name
    )
    assert logs.content is not None

    client.container_groups.begin_restart(resource_group.name, container_group_name).result()


def test_operations_list(client: Any) -> None:
    result = list(client.operations.list())
    assert result
    assert all(op.name.startswith("Microsoft.ContainerInstance/") for op in result)


def test_container_groups_list(client: Any, instant_target: dict[str, Any]) -> None:
    sub = instant_target["arm"]["subscription"]
    result = list(client.container_groups.list())
    assert all(g.id.startswith(f"/subscriptions/{sub}/resourceGroups/") for g in result)


def test_container_groups_list_by_resource_group(client: Any, resource_group: Any) -> None:
    result = list(
        client.container_groups.list_by_resource_group(resource_group_name=resource_group.name)
    )
    assert result == []


def test_location_reads(client: Any) -> None:
    usage = {u.name.value: u for u in client.location.list_usage(LOCATION)}
    assert usage["ContainerGroups"].unit == "Count"
    assert usage["ContainerGroups"].limit > 0
    capabilities = list(client.location.list_capabilities(LOCATION))
    assert {c.os_type for c in capabilities} == {"Linux", "Windows"}
    assert all(c.capabilities.max_cpu >= 1 for c in capabilities)
    assert list(client.location.list_cached_images(LOCATION)) == []


def test_provider_is_registered_and_registers(resources: Any) -> None:
    provider = resources.providers.get("Microsoft.ContainerInstance")
    assert provider.registration_state == "Registered"
    types = {t.resource_type: t for t in provider.resource_types}
    assert "2023-05-01" in types["containerGroups"].api_versions
    assert resources.providers.register("microsoft.containerinstance").namespace == (
        "Microsoft.ContainerInstance"
    )
    assert "Microsoft.ContainerInstance" in [p.namespace for p in resources.providers.list()]


def test_other_namespace_registers(resources: Any) -> None:
    assert resources.providers.get("Microsoft.Example").registration_state == "NotRegistered"
    assert resources.providers.register("Microsoft.Example").registration_state == "Registering"
    assert resources.providers.get("Microsoft.Example").registration_state == "Registered"
    assert resources.providers.unregister("Microsoft.Example").registration_state == (
        "Unregistering"
    )
    assert resources.providers.get("Microsoft.Example").registration_state == "Unregistered"


def test_group_of_a_missing_resource_group_is_not_found(client: Any) -> None:
    with pytest.raises(ResourceNotFoundError) as err:
        client.container_groups.get("no-such-group-rg", "nothing")
    assert err.value.error is not None
    assert err.value.error.code == "ResourceGroupNotFound"


def test_subnet_service_association_link_delete_without_a_link(
    client: Any, resource_group: Any
) -> None:
    # No virtual network is served, so no subnet holds a link: Azure answers 204.
    statuses: list[int] = []
    poller = client.subnet_service_association_link.begin_delete(
        resource_group.name,
        "vnet1",
        "subnet1",
        raw_response_hook=lambda response: statuses.append(response.http_response.status_code),
    )
    assert poller.result() is None
    assert poller.status() == "Succeeded"
    assert statuses == [204]
