"""Injected faults on the Batch routes, seen by azure-batch 15 as Azure would send them."""

from __future__ import annotations

import pytest
from azure.batch import models as bm
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from batch_helpers import make_pool_and_job

pytestmark = pytest.mark.integration

LIST_POOLS = "GET /pools"


def rule(fault: str, **extra) -> dict:
    return {"api": "batch", "method": "GET", "route": "/pools", "fault": fault, "count": 1, **extra}


def test_429_carries_retry_after_and_a_batch_error_body(batch_client, faults):
    faults.set([rule("429", retry_after=2)])
    with pytest.raises(HttpResponseError) as caught:
        list(batch_client.list_pools())
    response = caught.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    body = response.json()
    assert body["odata.metadata"].endswith("/@Element") and body["message"]["lang"] == "en-US"


def test_429_is_retried_by_the_sdk_after_retry_after(make_batch_client, faults):
    client = make_batch_client(retry_total=2)
    faults.set([rule("429", retry_after=1)])
    faults.reset_counters()
    assert isinstance(list(client.list_pools()), list)
    assert faults.counters()[LIST_POOLS] == 2


def test_500_surfaces_then_is_retried(batch_client, make_batch_client, faults):
    faults.set([rule("500")])
    with pytest.raises(HttpResponseError) as caught:
        list(batch_client.list_pools())
    assert caught.value.status_code == 500
    assert caught.value.response.json()["code"]
    faults.set([rule("500")])
    faults.reset_counters()
    assert isinstance(
        list(make_batch_client(retry_total=2, retry_backoff_factor=0.1).list_pools()), list
    )
    assert faults.counters()[LIST_POOLS] == 2


def test_dropped_connection_surfaces_then_is_retried(batch_client, make_batch_client, faults):
    faults.set([rule("drop")])
    with pytest.raises((ServiceResponseError, ServiceRequestError)):
        list(batch_client.list_pools())
    faults.set([rule("drop")])
    faults.reset_counters()
    assert isinstance(
        list(make_batch_client(retry_total=2, retry_backoff_factor=0.1).list_pools()), list
    )
    assert faults.counters()[LIST_POOLS] == 2


def test_create_tasks_resubmits_a_chunk_after_a_server_error(batch_client, faults, unique_name):
    _, job_id = make_pool_and_job(batch_client, unique_name("chunk"), nodes=0)
    faults.set(
        [
            {
                "api": "batch",
                "method": "POST",
                "route": "addtaskcollection",
                "fault": "500",
                "count": 1,
            }
        ]
    )
    faults.reset_counters()
    tasks = [bm.BatchTaskCreateOptions(id=f"t{i}", command_line="true") for i in range(150)]
    result = batch_client.create_tasks(job_id, tasks)
    assert len(result.result_values) == 150
    assert faults.counters()["POST /jobs/{job_id}/addtaskcollection"] == 3
    assert len(list(batch_client.list_tasks(job_id))) == 150


def test_lro_latency_holds_a_pool_delete_while_others_complete(batch_client, faults, unique_name):
    slow_pool, job_id = make_pool_and_job(batch_client, unique_name("lro"), nodes=0)
    faults.set(
        [
            {
                "api": "batch",
                "method": "DELETE",
                "route": slow_pool,
                "fault": "latency",
                "lro_latency": 30,
            }
        ]
    )
    batch_client.begin_delete_pool(slow_pool, polling_interval=0)
    batch_client.begin_delete_job(job_id, polling_interval=0).result()
    assert batch_client.get_pool(slow_pool).state == bm.BatchPoolState.DELETING
