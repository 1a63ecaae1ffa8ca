"""A container group's DELETE answers with the whole group, instance views included.

Azure's answer to `az container delete` at api-version 2023-05-01 (the Azure CLI's recording
test_container_create_regular_priority.yaml) is 200 with the group as a GET shows it: the
group's ``instanceView`` (``events``, ``state``) and each container's (``restartCount``,
``currentState`` with ``state``, ``startTime`` and ``detailStatus``, ``events``). The
REST spec documents the same 200 body for every version from 2021-03-01 on
(ContainerGroupsDelete.json). Groups run on the instant runtime.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

# The keys of Azure's recorded DELETE answer (2023-05-01), level by level.
GROUP_KEYS = {"id", "name", "type", "location", "tags", "properties"}
GROUP_VIEW_KEYS = {"events", "state"}
CONTAINER_VIEW_KEYS = {"restartCount", "currentState", "events"}
CURRENT_STATE_KEYS = {"state", "startTime", "detailStatus"}


def _call(
    status: dict[str, Any], method: str, path: str, version: str, body: Any = None
) -> requests.Response:
    url = (
        f"{status['arm']['endpoint']}/subscriptions/{status['arm']['subscription']}/"
        f"{path}?api-version={version}"
    )
    return requests.request(
        method,
        url,
        json=body,
        headers={"Authorization": "Bearer t"},
        verify=status["ca_bundle"],
        timeout=30,
    )


def _running_group(status: dict[str, Any], rg: str, name: str) -> str:
    path = f"resourceGroups/{rg}/providers/Microsoft.ContainerInstance/containerGroups/{name}"
    made = _call(
        status,
        "PUT",
        path,
        "2023-05-01",
        {
            "location": "westus",
            "tags": {},
            "properties": {
                "osType": "Linux",
                "restartPolicy": "Always",
                "containers": [
                    {
                        "name": name,
                        "properties": {
                            "image": "alpine:latest",
                            "command": ["/bin/sh", "-c", "sleep 600"],
                            "resources": {"requests": {"cpu": 1.0, "memoryInGB": 1.0}},
                        },
                    }
                ],
            },
        },
    )
    assert made.status_code == 201, made.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shown = _call(status, "GET", path, "2023-05-01").json()
        if shown["properties"]["provisioningState"] == "Succeeded":
            return path
        time.sleep(0.1)
    raise AssertionError(f"{name} never provisioned: {shown}")


@pytest.mark.parametrize("version", ["2021-09-01", "2023-05-01"])
def test_delete_answers_with_the_group_and_its_instance_views(
    instant_target: dict[str, Any], unique_name: Any, version: str
) -> None:
    rg = unique_name("delete")
    assert (
        _call(
            instant_target, "PUT", f"resourcegroups/{rg}", "2021-04-01", {"location": "westus"}
        ).status_code
        == 201
    )
    path = _running_group(instant_target, rg, "clicontainer")
    shown = _call(instant_target, "GET", path, version).json()

    answer = _call(instant_target, "DELETE", path, version)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == GROUP_KEYS
    view = body["properties"]["instanceView"]
    assert (
        set(view) == GROUP_VIEW_KEYS
        and view["state"] == shown["properties"]["instanceView"]["state"]
    )
    (container,) = body["properties"]["containers"]
    container_view = container["properties"]["instanceView"]
    assert set(container_view) == CONTAINER_VIEW_KEYS
    assert set(container_view["currentState"]) == CURRENT_STATE_KEYS
    assert container_view == shown["properties"]["containers"][0]["properties"]["instanceView"]
    assert (
        _call(
            instant_target, "DELETE", path.replace("clicontainer", "never-made"), version
        ).status_code
        == 204
    )
