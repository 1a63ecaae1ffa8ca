"""Raw response shapes against azure-rest-api-specs' Batch examples (JobGetTaskCounts,
TaskCreateCollection_Basic, PoolGet_*, the list operations): the properties each example
shows are present, with Batch's casing and timestamp format."""

from __future__ import annotations

import re
from typing import Any

import pytest
from azure.batch import models as bm
from azure.core.rest import HttpRequest
from batch_helpers import make_pool_and_job, wait_task_completed
from local_batch_shapes_data import POOL_KEYS, TASK_KEYS

pytestmark = pytest.mark.integration

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,7})?Z$")
VERSION = "api-version=2025-06-01"


def get(client: Any, path: str) -> Any:
    response = client.send_request(HttpRequest("GET", f"{path}?{VERSION}"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_pool_job_task_and_counts_have_the_example_shapes(batch_client, unique_name):
    pool_id, job_id = make_pool_and_job(batch_client, unique_name("shape"), nodes=1)
    answer = batch_client.create_task_collection(
        job_id,
        bm.BatchTaskGroup(task_values=[bm.BatchTaskCreateOptions(id="one", command_line="true")]),
        cls=lambda r, b, h: r,
    )
    results = answer.http_response.json()["value"]
    assert set(results[0]) == {"status", "taskId", "eTag", "lastModified", "location"}
    assert results[0]["status"] == "success" and TIMESTAMP.match(results[0]["lastModified"])
    wait_task_completed(batch_client, job_id, "one")

    pool = get(batch_client, f"/pools/{pool_id}")
    assert set(pool) >= POOL_KEYS
    assert pool["odata.metadata"].endswith("$metadata#pools/@Element")
    assert TIMESTAMP.match(pool["creationTime"]) and pool["state"] == "active"

    task = get(batch_client, f"/jobs/{job_id}/tasks/one")
    assert set(task) >= TASK_KEYS
    assert set(task["executionInfo"]) >= {
        "startTime",
        "endTime",
        "exitCode",
        "result",
        "retryCount",
        "requeueCount",
    }
    assert set(task["nodeInfo"]) == {
        "affinityId",
        "nodeUrl",
        "poolId",
        "nodeId",
        "taskRootDirectory",
        "taskRootDirectoryUrl",
    }

    counts = get(batch_client, f"/jobs/{job_id}/taskcounts")
    fields = {"active", "running", "completed", "succeeded", "failed"}
    assert set(counts["taskCounts"]) == fields and set(counts["taskSlotCounts"]) == fields
    assert counts["taskCounts"]["succeeded"] == 1


def test_lists_page_with_odata_next_link(batch_client, unique_name):
    _, job_id = make_pool_and_job(batch_client, unique_name("links"), nodes=0)
    batch_client.create_tasks(
        job_id, [bm.BatchTaskCreateOptions(id=f"t{i}", command_line="true") for i in range(3)]
    )
    response = batch_client.send_request(
        HttpRequest("GET", f"/jobs/{job_id}/tasks?{VERSION}&maxresults=2")
    )
    first = response.json()
    assert first["odata.metadata"].endswith("$metadata#tasks")
    assert len(first["value"]) == 2
    link = first["odata.nextLink"]
    assert link.startswith(batch_client._config.endpoint) and "maxresults=2" in link
    relative = link[len(batch_client._config.endpoint) :]
    rest = batch_client.send_request(HttpRequest("GET", relative)).json()
    assert "odata.nextLink" not in rest
    assert sorted(t["id"] for t in first["value"] + rest["value"]) == ["t0", "t1", "t2"]
