"""Every Batch data-plane api-version Azure serves is accepted, in that version's shapes.

Batch serves every api-version newer than September 2017 (its API status page). The list is
azure-rest-api-specs' stable folders, ``specification/batch/data-plane/Microsoft.Batch/
stable/`` and ``Azure.Batch/stable/``, plus ``2025-06-01``, which the TypeSpec-generated
clients (azure-batch 15, .NET, JavaScript) send for ``2025-06-01.21.0``. Requests are signed
with the account's shared key by azure-batch 15's own policy; the api-version is the one in
each URL.
"""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest
from waiting import wait_for

from runner.local.batch import versions

pytestmark = pytest.mark.integration

FROM_THE_SPECS = (
    "2017-09-01.6.0",
    "2018-03-01.6.1",
    "2018-08-01.7.0",
    "2018-12-01.8.0",
    "2019-06-01.9.0",
    "2019-08-01.10.0",
    "2020-03-01.11.0",
    "2020-09-01.12.0",
    "2021-06-01.14.0",
    "2022-01-01.15.0",
    "2022-10-01.16.0",
    "2023-05-01.17.0",
    "2023-11-01.18.0",
    "2024-02-01.19.0",
    "2024-07-01.20.0",
    "2025-06-01.21.0",
    "2025-06-01",
)
IMAGE = {
    "imageReference": {
        "publisher": "canonical",
        "offer": "0001-com-ubuntu-server-jammy",
        "sku": "22_04-lts",
    },
    "nodeAgentSKUId": "batch.node.ubuntu 22.04",
}


def send(client: Any, method: str, path: str, version: str, body: Any = None) -> Any:
    sep = "&" if "?" in path else "?"
    request = HttpRequest(
        method, f"{path}{sep}api-version={version}", json=body if body is not None else None
    )
    try:
        return client.send_request(request)
    except HttpResponseError as err:  # azure-batch raises on error answers
        return err.response


def test_the_list_is_the_specs_list():
    assert versions.API_VERSIONS == FROM_THE_SPECS


@pytest.mark.parametrize("version", FROM_THE_SPECS)
def test_each_api_version_is_served(batch_client, version):
    answer = send(batch_client, "GET", "/pools", version)
    assert answer.status_code == 200, answer.text()
    assert answer.json()["odata.metadata"].endswith("/$metadata#pools")


@pytest.mark.parametrize("version", ["2017-06-01.5.1", "2016-07-01.3.1", "2020-11-01.13.0"])
def test_an_api_version_batch_does_not_serve_is_refused(batch_client, version):
    answer = send(batch_client, "GET", "/pools", version)
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "InvalidQueryParameterValue"
    assert body["odata.metadata"].endswith(
        "$metadata#Microsoft.Azure.Batch.Protocol.Entities.Container.errors/@Element"
    )
    detail = {v["key"]: v["value"] for v in body["values"]}
    assert detail["QueryParameterName"] == "api-version"
    assert detail["QueryParameterValue"] == version


def test_a_missing_api_version_is_refused(batch_client):
    try:
        answer = batch_client.send_request(HttpRequest("GET", "/pools"))
    except HttpResponseError as err:
        answer = err.response
    assert answer.status_code == 400
    assert answer.json()["code"] == "MissingRequiredQueryParameter"


def test_before_task_slots_a_pool_has_max_tasks_per_node(batch_client, unique_name):
    # 2020-03-01.11.0 (azure-batch 9) still names the slots maxTasksPerNode.
    pool_id = unique_name("old-slots")
    body = {
        "id": pool_id,
        "vmSize": "standard_d2s_v3",
        "virtualMachineConfiguration": IMAGE,
        "targetDedicatedNodes": 0,
        "maxTasksPerNode": 3,
    }
    assert send(batch_client, "POST", "/pools", "2020-03-01.11.0", body).status_code == 201

    old = send(batch_client, "GET", f"/pools/{pool_id}", "2020-03-01.11.0").json()
    new = send(batch_client, "GET", f"/pools/{pool_id}", "2020-09-01.12.0").json()
    assert old["maxTasksPerNode"] == 3 and "taskSlotsPerNode" not in old
    assert new["taskSlotsPerNode"] == 3 and "maxTasksPerNode" not in new


def test_task_counts_in_each_versions_shape(batch_client, unique_name):
    pool_id, job_id = unique_name("counts-pool"), unique_name("counts-job")
    assert (
        send(
            batch_client,
            "POST",
            "/pools",
            "2025-06-01",
            {
                "id": pool_id,
                "vmSize": "standard_d2s_v3",
                "virtualMachineConfiguration": IMAGE,
                "targetDedicatedNodes": 1,
            },
        ).status_code
        == 201
    )
    assert (
        send(
            batch_client,
            "POST",
            "/jobs",
            "2025-06-01",
            {"id": job_id, "poolInfo": {"poolId": pool_id}},
        ).status_code
        == 201
    )
    added = send(
        batch_client,
        "POST",
        f"/jobs/{job_id}/addtaskcollection",
        "2023-05-01.17.0",
        {"value": [{"id": "ok", "commandLine": "true"}, {"id": "bad", "commandLine": "false"}]},
    )
    assert added.json()["odata.metadata"].endswith("/$metadata#taskaddresult")
    wait_for(
        lambda: send(batch_client, "GET", f"/jobs/{job_id}/tasks", "2025-06-01").json(),
        lambda listed: all(t["state"] == "completed" for t in listed["value"]),
        "both tasks completed",
    )

    result = send(batch_client, "GET", f"/jobs/{job_id}/taskcounts", "2025-06-01").json()
    assert result["odata.metadata"].endswith("/$metadata#taskcountsresult/@Element")
    assert result["taskCounts"] == {
        "active": 0,
        "running": 0,
        "completed": 2,
        "succeeded": 1,
        "failed": 1,
    }
    assert result["taskSlotCounts"] == result["taskCounts"]

    counts = send(batch_client, "GET", f"/jobs/{job_id}/taskcounts", "2020-03-01.11.0").json()
    assert counts == {
        "odata.metadata": result["odata.metadata"].replace("taskcountsresult", "taskcounts"),
        **result["taskCounts"],
    }
    oldest = send(batch_client, "GET", f"/jobs/{job_id}/taskcounts", "2018-03-01.6.1").json()
    assert oldest["validationStatus"] == "validated"

    task = send(batch_client, "GET", f"/jobs/{job_id}/tasks/ok", "2020-03-01.11.0").json()
    assert "requiredSlots" not in task


def test_before_http_urls_a_resource_file_has_a_blob_source(batch_client, unique_name):
    # 2018-08-01.7.0 (azure-batch 5.1) names a resource file's URL blobSource.
    pool_id, job_id = unique_name("blob-pool"), unique_name("blob-job")
    assert (
        send(
            batch_client,
            "POST",
            "/pools",
            "2018-08-01.7.0",
            {
                "id": pool_id,
                "vmSize": "standard_d2s_v3",
                "virtualMachineConfiguration": IMAGE,
                "targetDedicatedNodes": 0,
            },
        ).status_code
        == 201
    )
    assert (
        send(
            batch_client,
            "POST",
            "/jobs",
            "2018-08-01.7.0",
            {"id": job_id, "poolInfo": {"poolId": pool_id}},
        ).status_code
        == 201
    )
    url = "https://account.blob.core.windows.net/input/data.txt?sv=x"
    assert (
        send(
            batch_client,
            "POST",
            f"/jobs/{job_id}/tasks",
            "2018-08-01.7.0",
            {
                "id": "t",
                "commandLine": "cat data.txt",
                "resourceFiles": [{"blobSource": url, "filePath": "data.txt"}],
            },
        ).status_code
        == 201
    )

    old = send(batch_client, "GET", f"/jobs/{job_id}/tasks/t", "2018-08-01.7.0").json()
    new = send(batch_client, "GET", f"/jobs/{job_id}/tasks/t", "2018-12-01.8.0").json()
    assert old["resourceFiles"] == [{"blobSource": url, "filePath": "data.txt"}]
    assert new["resourceFiles"] == [{"httpUrl": url, "filePath": "data.txt"}]


@pytest.mark.parametrize(
    ("version", "status"),
    [("2017-09-01.6.0", 201), ("2024-02-01.19.0", 201), ("2024-07-01.20.0", 400)],
)
def test_cloud_service_pools_until_the_version_that_dropped_them(
    batch_client, unique_name, version, status
):
    body = {
        "id": unique_name("cloud"),
        "vmSize": "small",
        "cloudServiceConfiguration": {"osFamily": "6"},
        "targetDedicatedNodes": 0,
    }
    answer = send(batch_client, "POST", "/pools", version, body)
    assert answer.status_code == status, answer.text()
