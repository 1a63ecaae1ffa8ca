"""Injected faults, seen by the real SDK clients as Azure would send them."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

LIST_ROUTE = (
    "GET /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ContainerInstance"
    "/containerGroups"
)


def test_429_carries_retry_after_and_arm_error_body(
    aci_client: Any, resource_group: str, faults: Any
) -> None:
    faults.set(
        [
            {
                "fault": "429",
                "api": "arm",
                "method": "GET",
                "route": "containerGroups",
                "count": 1,
                "retry_after": 7,
            }
        ]
    )
    with pytest.raises(HttpResponseError) as err:
        list(aci_client.container_groups.list_by_resource_group(resource_group))
    assert err.value.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.error.code == "TooManyRequests"
    # The rule was for one request only: the next one goes through.
    assert list(aci_client.container_groups.list_by_resource_group(resource_group)) == []


def test_sdk_retry_policy_retries_a_429_after_retry_after(
    emulator: dict[str, Any], make_arm_client: Any, resource_group: str, faults: Any
) -> None:
    client = make_arm_client(emulator, "aci", retry_total=3)
    faults.set([{"fault": "429", "route": "containerGroups", "count": 2, "retry_after": 1}])
    faults.reset_counters()
    assert list(client.container_groups.list_by_resource_group(resource_group)) == []
    assert faults.counters()[LIST_ROUTE] == 3


def test_500_carries_the_arm_error_body_and_is_retried_by_the_sdk(
    emulator: dict[str, Any],
    make_arm_client: Any,
    aci_client: Any,
    resource_group: str,
    faults: Any,
) -> None:
    faults.set([{"fault": "500", "method": "GET", "route": "containerGroups", "count": 1}])
    with pytest.raises(HttpResponseError) as err:
        list(aci_client.container_groups.list_by_resource_group(resource_group))
    assert err.value.status_code == 500
    assert err.value.error.code == "InternalServerError"

    faults.set([{"fault": "500", "method": "GET", "route": "containerGroups", "count": 1}])
    retrying = make_arm_client(emulator, "aci", retry_total=2, retry_backoff_factor=0.01)
    assert list(retrying.container_groups.list_by_resource_group(resource_group)) == []


def test_dropped_connection_surfaces_as_a_transport_error(
    emulator: dict[str, Any],
    make_arm_client: Any,
    aci_client: Any,
    resource_group: str,
    faults: Any,
) -> None:
    faults.set([{"fault": "drop", "route": "containerGroups", "count": 1}])
    with pytest.raises((ServiceResponseError, ServiceRequestError)):
        list(aci_client.container_groups.list_by_resource_group(resource_group))

    faults.set([{"fault": "drop", "route": "containerGroups", "count": 1}])
    retrying = make_arm_client(emulator, "aci", retry_total=2, retry_backoff_factor=0.01)
    assert list(retrying.container_groups.list_by_resource_group(resource_group)) == []


def test_request_latency_trips_a_client_read_timeout(
    emulator: dict[str, Any], make_arm_client: Any, resource_group: str, faults: Any
) -> None:
    faults.set([{"fault": "latency", "route": "containerGroups", "latency": 3, "count": 1}])
    impatient = make_arm_client(emulator, "aci", read_timeout=0.5)
    with pytest.raises(ServiceResponseError):
        list(impatient.container_groups.list_by_resource_group(resource_group))


def test_rate_zero_never_fires_and_rules_match_by_method(
    aci_client: Any, resource_group: str, faults: Any
) -> None:
    faults.set(
        [
            {"fault": "500", "route": "containerGroups", "rate": 0.0},
            {"fault": "500", "method": "DELETE", "route": "containerGroups"},
        ]
    )
    assert list(aci_client.container_groups.list_by_resource_group(resource_group)) == []


def test_lro_latency_keeps_a_new_group_pending(
    aci_client: Any,
    resource_group: str,
    faults: Any,
    docker_client: Any,
    test_image: str,
) -> None:
    from aci_helpers import container, group

    faults.set([{"fault": "latency", "api": "arm", "lro_latency": 3, "count": 1}])
    body = group([container("app", test_image, ["sh", "-c", "sleep 600"])])
    poller = aci_client.container_groups.begin_create_or_update(resource_group, "slow", body)
    got = aci_client.container_groups.get(resource_group, "slow")
    assert got.provisioning_state == "Pending"
    assert got.instance_view.state == "Pending"
    assert poller.result().provisioning_state == "Succeeded"


def test_counters_count_requests_per_route_template(
    aci_client: Any, resource_group: str, faults: Any
) -> None:
    faults.reset_counters()
    for _ in range(3):
        list(aci_client.container_groups.list_by_resource_group(resource_group))
    counts = faults.counters()
    assert counts[LIST_ROUTE] == 3
    assert not any(key.startswith("GET /_runner") for key in counts)


def test_faults_set_at_up_time_apply_from_the_first_request(
    tmp_path: Any, make_arm_client: Any
) -> None:
    from runner.backends import local_target

    state = tmp_path / "target"
    rules = {"rules": [{"fault": "500", "api": "arm", "method": "PUT", "count": 1}]}
    status = local_target.up(state, faults=rules)
    try:
        resources = make_arm_client(status, "resource")
        with pytest.raises(HttpResponseError) as err:
            resources.resource_groups.create_or_update("rg1", {"location": "westeurope"})
        assert err.value.status_code == 500
        assert (
            resources.resource_groups.create_or_update("rg1", {"location": "westeurope"}).name
            == "rg1"
        )
    finally:
        local_target.down(state, purge=True)
