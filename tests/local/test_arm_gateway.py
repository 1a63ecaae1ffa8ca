"""What ARM itself answers, before or around Microsoft.ContainerInstance: api-version and
path errors, resource-group filters, answers without a body. Shapes from Azure's recorded
answers (x-ms-failure-cause, NoRegisteredProviderFound naming the request's location)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

GROUPS = "providers/Microsoft.ContainerInstance/containerGroups"


class Arm:
    def __init__(self, status: dict[str, Any]) -> None:
        self.base = f"{status['arm']['endpoint']}/subscriptions/{status['arm']['subscription']}"
        self.verify = status["ca_bundle"]

    def __call__(
        self, method: str, path: str, version: str = "2023-05-01", **kwargs: Any
    ) -> requests.Response:
        sep = "&" if "?" in path else "?"
        return requests.request(
            method,
            f"{self.base}/{path}{sep}api-version={version}",
            headers={"Authorization": "Bearer t"},
            verify=self.verify,
            timeout=30,
            **kwargs,
        )


@pytest.fixture
def arm(instant_target: dict[str, Any]) -> Arm:
    return Arm(instant_target)


@pytest.fixture
def rg(arm: Arm, unique_name: Callable[[str], str]) -> str:
    name = unique_name("gw")
    assert (
        arm(
            "PUT",
            f"resourcegroups/{name}",
            "2021-04-01",
            json={"location": "West US", "tags": {"Team": "blue"}},
        ).status_code
        == 201
    )
    return name


def test_unknown_api_version_of_a_put_names_its_location_and_the_gateway(arm: Arm, rg: str) -> None:
    answer = arm(
        "PUT",
        f"resourceGroups/{rg}/{GROUPS}/g1",
        "2021-13-01",
        json={"location": "East US", "properties": {}},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "NoRegisteredProviderFound"
    assert "location 'eastus'" in error["message"] and "'2021-13-01'" in error["message"]
    assert answer.headers["x-ms-failure-cause"] == "gateway"


def test_unknown_api_version_of_a_resource_group_is_invalid_api_version(arm: Arm, rg: str) -> None:
    answer = arm("GET", f"resourcegroups/{rg}", "2099-01-01")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "InvalidApiVersionParameter"
    assert "2021-04-01" in answer.json()["error"]["message"]


def test_unknown_type_of_the_namespace_is_invalid_resource_type(arm: Arm, rg: str) -> None:
    answer = arm("GET", f"resourceGroups/{rg}/providers/Microsoft.ContainerInstance/widgets/w")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "InvalidResourceType"
    assert "'widgets'" in answer.json()["error"]["message"]


def test_resource_groups_filter_by_tag_name_and_value(arm: Arm, rg: str) -> None:
    def names(odata: str) -> list[str]:
        answer = arm("GET", f"resourcegroups?$filter={odata}", "2021-04-01")
        assert answer.status_code == 200, answer.text
        return [g["name"] for g in answer.json()["value"]]

    assert rg in names("tagName eq 'team'")
    assert rg in names("tagName eq 'Team' and tagValue eq 'blue'")
    assert rg not in names("tagName eq 'Team' and tagValue eq 'red'")
    bad = arm("GET", "resourcegroups?$filter=location eq 'westus'", "2021-04-01")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "InvalidFilterInQueryString"


def test_resource_group_location_is_kept_by_its_short_name(arm: Arm, rg: str) -> None:
    assert arm("GET", f"resourcegroups/{rg}", "2021-04-01").json()["location"] == "westus"


def test_resource_group_patch_changes_tags(arm: Arm, rg: str) -> None:
    answer = arm("PATCH", f"resourcegroups/{rg}", "2021-04-01", json={"tags": {"a": "b"}})
    assert answer.status_code == 200
    assert answer.json()["tags"] == {"a": "b"} and answer.json()["location"] == "westus"


def test_an_answer_without_body_has_no_content_type(arm: Arm, rg: str) -> None:
    answer = arm("DELETE", f"resourceGroups/{rg}/{GROUPS}/never-made")
    assert answer.status_code == 204
    assert answer.content == b"" and "Content-Type" not in answer.headers
    assert answer.headers["Cache-Control"] == "no-cache" and "x-ms-request-id" in answer.headers


def test_older_api_versions_answer_without_the_fields_they_did_not_have(arm: Arm, rg: str) -> None:
    body = {
        "location": "westus",
        "properties": {
            "osType": "Linux",
            "containers": [
                {
                    "name": "c",
                    "properties": {
                        "image": "alpine",
                        "resources": {"requests": {"cpu": 1, "memoryInGB": 1}},
                    },
                }
            ],
        },
    }
    assert arm("PUT", f"resourceGroups/{rg}/{GROUPS}/old", json=body).status_code == 201
    old = arm("GET", f"resourceGroups/{rg}/{GROUPS}/old", "2018-10-01").json()["properties"]
    assert "sku" not in old and "initContainers" not in old
    assert "provisioningTimeoutInSeconds" not in old
    new = arm("GET", f"resourceGroups/{rg}/{GROUPS}/old").json()["properties"]
    assert new["sku"] == "Standard" and new["initContainers"] == []
    assert new["provisioningTimeoutInSeconds"] == 1800


def test_write_only_values_are_never_returned(arm: Arm, rg: str) -> None:
    body = {
        "location": "westus",
        "properties": {
            "osType": "Linux",
            "containers": [
                {
                    "name": "c",
                    "properties": {
                        "image": "alpine",
                        "resources": {"requests": {"cpu": 1, "memoryInGB": 1}},
                        "environmentVariables": [{"name": "TOKEN", "secureValue": "s3cret"}],
                    },
                }
            ],
            "imageRegistryCredentials": [
                {"server": "r.example", "username": "u", "password": "pw"}
            ],
            "volumes": [
                {"name": "v", "secret": {"k": "c2VjcmV0"}},
                {
                    "name": "f",
                    "azureFile": {
                        "shareName": "s",
                        "storageAccountName": "a",
                        "storageAccountKey": "key",
                    },
                },
            ],
            "diagnostics": {"logAnalytics": {"workspaceId": "w", "workspaceKey": "wk"}},
        },
    }
    put = arm("PUT", f"resourceGroups/{rg}/{GROUPS}/secrets", json=body)
    got = arm("GET", f"resourceGroups/{rg}/{GROUPS}/secrets")
    listed = arm("GET", f"resourceGroups/{rg}/{GROUPS}")
    for text in (put.text, got.text, listed.text):
        for secret in ("s3cret", '"pw"', "c2VjcmV0", '"key"', '"wk"'):
            assert secret not in text
    props = got.json()["properties"]
    assert props["containers"][0]["properties"]["environmentVariables"] == [{"name": "TOKEN"}]
    assert props["volumes"][0] == {"name": "v", "secret": {}}


def test_generic_resource_lists_show_container_groups(arm: Arm, rg: str) -> None:
    body = {
        "location": "westus",
        "tags": {"managed-by": "runner"},
        "properties": {
            "osType": "Linux",
            "containers": [
                {
                    "name": "c",
                    "properties": {
                        "image": "alpine",
                        "resources": {"requests": {"cpu": 1, "memoryInGB": 1}},
                    },
                }
            ],
        },
    }
    assert arm("PUT", f"resourceGroups/{rg}/{GROUPS}/listed", json=body).status_code == 201
    in_group = arm("GET", f"resourceGroups/{rg}/resources", "2021-04-01").json()["value"]
    assert [(r["name"], r["type"], r["tags"]) for r in in_group] == [
        ("listed", "Microsoft.ContainerInstance/containerGroups", {"managed-by": "runner"})
    ]
    assert set(in_group[0]) == {"id", "name", "type", "location", "tags"}
    odata = (
        "resourceType eq 'Microsoft.ContainerInstance/containerGroups' and "
        "tagName eq 'managed-by' and tagValue eq 'runner'"
    )
    everywhere = arm("GET", f"resources?$filter={odata}", "2021-04-01").json()["value"]
    assert in_group[0]["id"] in [r["id"] for r in everywhere]
    other = arm(
        "GET", "resources?$filter=resourceType eq 'Microsoft.Batch/batchAccounts'", "2021-04-01"
    ).json()["value"]
    assert other == []
