"""ARM answers as Azure gives them: status codes, headers, error codes and bodies."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from aci_helpers import container, group
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

ACI = "providers/Microsoft.ContainerInstance/containerGroups"


class Raw:
    """Plain HTTPS calls, for what the SDK hides (status codes, headers)."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.base = status["arm"]["endpoint"]
        self.sub = status["arm"]["subscription"]
        self.verify = status["ca_bundle"]

    def __call__(
        self,
        method: str,
        path: str,
        *,
        token: bool = True,
        api_version: str | None = "2023-05-01",
        **kwargs: Any,
    ) -> requests.Response:
        headers = {"Authorization": "Bearer t"} if token else {}
        params = {"api-version": api_version} if api_version else {}
        url = f"{self.base}/subscriptions/{self.sub}/{path}"
        return requests.request(
            method, url, headers=headers, params=params, verify=self.verify, timeout=30, **kwargs
        )


@pytest.fixture
def raw(emulator: dict[str, Any]) -> Raw:
    return Raw(emulator)


def _body(image: str, command: str = "sleep 600", **props: Any) -> dict[str, Any]:
    return {
        "location": "westeurope",
        "properties": {
            "osType": "Linux",
            "containers": [
                {
                    "name": "app",
                    "properties": {
                        "image": image,
                        "command": ["sh", "-c", command],
                        "resources": {"requests": {"cpu": 0.5, "memoryInGB": 0.5}},
                    },
                }
            ],
            **props,
        },
    }


def test_request_without_bearer_token_gets_401_as_arm_answers(raw: Raw) -> None:
    answer = raw("GET", f"{ACI}", token=False)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "AuthenticationFailed"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer ")


def test_unknown_api_version_gets_no_registered_provider_found(
    emulator: dict[str, Any], make_arm_client: Any, resource_group: str
) -> None:
    client = make_arm_client(emulator, "aci", api_version="2099-01-01")
    with pytest.raises(HttpResponseError) as err:
        list(client.container_groups.list_by_resource_group(resource_group))
    assert err.value.status_code == 400
    assert err.value.error.code == "NoRegisteredProviderFound"
    assert "2023-05-01" in err.value.error.message and "2018-10-01" in err.value.error.message


def test_every_shipped_aci_api_version_is_accepted(
    emulator: dict[str, Any], make_arm_client: Any, resource_group: str, raw: Raw
) -> None:
    for version in ("2018-10-01", "2019-12-01", "2021-10-01", "2023-05-01"):
        client = make_arm_client(emulator, "aci", api_version=version)
        assert list(client.container_groups.list_by_resource_group(resource_group)) == []
    assert raw("GET", ACI, api_version=None).json()["error"]["code"] == (
        "MissingApiVersionParameter"
    )


def test_resource_groups_put_get_head_list_delete(
    resource_client: Any, raw: Raw, unique_name: Any
) -> None:
    name = unique_name("rgshape")
    first = raw(
        "PUT",
        f"resourcegroups/{name}",
        api_version="2025-04-01",
        json={"location": "westeurope", "tags": {"a": "b"}},
    )
    assert first.status_code == 201
    again = raw(
        "PUT", f"resourcegroups/{name}", api_version="2025-04-01", json={"location": "westeurope"}
    )
    assert again.status_code == 200
    got = resource_client.resource_groups.get(name)
    assert (got.name, got.location, got.properties.provisioning_state) == (
        name,
        "westeurope",
        "Succeeded",
    )
    assert got.type == "Microsoft.Resources/resourceGroups"
    assert resource_client.resource_groups.check_existence(name) is True
    assert name in [g.name for g in resource_client.resource_groups.list()]

    deleting = raw("DELETE", f"resourcegroups/{name}", api_version="2025-04-01")
    assert deleting.status_code == 202 and "Location" in deleting.headers
    from waiting import wait_for

    poll = deleting.headers["Location"]
    wait_for(
        lambda: (
            requests.get(
                poll, headers={"Authorization": "Bearer t"}, verify=raw.verify, timeout=30
            ).status_code
        ),
        lambda code: code == 200,
        "resource group deleted",
    )
    assert resource_client.resource_groups.check_existence(name) is False
    with pytest.raises(ResourceNotFoundError) as err:
        resource_client.resource_groups.get(name)
    assert err.value.error.code == "ResourceGroupNotFound"


def test_missing_resource_group_and_missing_group_have_arm_codes(
    aci_client: Any, resource_group: str
) -> None:
    with pytest.raises(ResourceNotFoundError) as err:
        aci_client.container_groups.get("no-such-rg", "x")
    assert err.value.error.code == "ResourceGroupNotFound"
    with pytest.raises(ResourceNotFoundError) as err:
        aci_client.container_groups.get(resource_group, "absent")
    assert err.value.error.code == "ResourceNotFound"
    assert err.value.status_code == 404


def test_put_answers_201_then_200_with_an_operation_url_on_api_version_2018_06_01(
    raw: Raw, resource_group: str, test_image: str
) -> None:
    path = f"resourceGroups/{resource_group}/{ACI}/shape"
    created = raw("PUT", path, json=_body(test_image))
    assert created.status_code == 201
    assert created.json()["properties"]["provisioningState"] in ("Pending", "Creating")
    operation = created.headers["Azure-AsyncOperation"]
    assert "api-version=2018-06-01" in operation and "/operations/" in operation
    assert requests.get(
        operation, headers={"Authorization": "Bearer t"}, verify=raw.verify, timeout=30
    ).json()["status"] in ("Pending", "Succeeded")
    wait_succeeded(raw, path)
    updated = raw("PUT", path, json=_body(test_image, "sleep 601"))
    assert updated.status_code == 200
    wait_succeeded(raw, path)
    restarted = raw("POST", f"{path}/restart")
    assert restarted.status_code == 204 and "Azure-AsyncOperation" in restarted.headers
    wait_succeeded(raw, path)
    deleted = raw("DELETE", path)
    assert deleted.status_code in (200, 202)
    wait_gone(raw, path)
    assert raw("DELETE", path).status_code == 204


def wait_succeeded(raw: Raw, path: str) -> None:
    from waiting import wait_for

    wait_for(
        lambda: raw("GET", path).json()["properties"]["provisioningState"],
        lambda s: s == "Succeeded",
        f"{path} provisioned",
    )


def wait_gone(raw: Raw, path: str) -> None:
    from waiting import wait_for

    wait_for(lambda: raw("GET", path).status_code, lambda s: s == 404, f"{path} deleted")


def test_put_during_provisioning_is_container_group_transitioning(
    aci_client: Any, resource_group: str, test_image: str, transitions: Any
) -> None:
    transitions({"aci.provisioning": {"mode": "seconds", "value": 3}})
    body = group([container("app", test_image, ["sh", "-c", "sleep 600"])])
    poller = aci_client.container_groups.begin_create_or_update(resource_group, "busy", body)
    with pytest.raises(HttpResponseError) as err:
        aci_client.container_groups.begin_create_or_update(resource_group, "busy", body)
    assert err.value.status_code == 409
    assert err.value.error.code == "ContainerGroupTransitioning"
    poller.result()


@pytest.mark.parametrize(
    ("name", "change", "code"),
    [
        ("Bad_Name", {}, "InvalidContainerGroupName"),
        ("-bad", {}, "InvalidContainerGroupName"),
        ("ok", {"restartPolicy": "Sometimes"}, "InvalidRestartPolicy"),
        ("ok", {"containers": []}, "MissingRequiredProperty"),
        (
            "ok",
            {"ipAddress": {"type": "Private", "dnsNameLabel": "x", "ports": [{"port": 80}]}},
            "InvalidDnsNameLabel",
        ),
    ],
)
def test_invalid_bodies_get_validation_errors(
    raw: Raw, resource_group: str, name: str, change: dict[str, Any], code: str
) -> None:
    body = _body("img")
    body["properties"].update(change)
    answer = raw("PUT", f"resourceGroups/{resource_group}/{ACI}/{name}", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == code


def test_container_checks_duplicate_names_ports_and_limits(raw: Raw, resource_group: str) -> None:
    body = _body("img")
    app = body["properties"]["containers"][0]
    body["properties"]["containers"] = [app, app]
    path = f"resourceGroups/{resource_group}/{ACI}/dup"
    assert raw("PUT", path, json=body).json()["error"]["code"] == "DuplicateContainerNames"
    big = _body("img")
    big["properties"]["containers"][0]["properties"]["resources"]["requests"]["cpu"] = 8
    assert raw("PUT", path, json=big).json()["error"]["code"] == "ResourceRequestsNotSupported"


def test_logs_of_an_unknown_container_is_container_not_found(
    aci_client: Any, resource_group: str, test_image: str
) -> None:
    body = group([container("app", test_image, ["sh", "-c", "echo hi"])], restart_policy="Never")
    aci_client.container_groups.begin_create_or_update(resource_group, "logs", body).result()
    with pytest.raises(ResourceNotFoundError) as err:
        aci_client.containers.list_logs(resource_group, "logs", "nope")
    assert err.value.error.code == "ContainerNotFound"
