"""Pools and jobs through azure-batch 15: shapes, headers, conflicts, async deletes."""

from __future__ import annotations

import pytest
from azure.batch import models as bm
from azure.batch.models._models import BatchJobTerminateOptions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from batch_helpers import make_pool_and_job, pool_options
from waiting import wait_for

pytestmark = pytest.mark.integration


def raw(response, _body, _headers):
    return response.http_response


def test_create_pool_answers_201_with_batch_headers_and_no_body(batch_client, unique_name):
    pool_id = unique_name("hdr")
    response = batch_client.create_pool(pool_options(pool_id, nodes=0), cls=raw)
    assert response.status_code == 201
    assert response.text() == ""
    headers = response.headers
    assert headers["ETag"].startswith("0x8D")
    assert headers["Last-Modified"].endswith("GMT")
    assert headers["Location"].endswith(f"/pools/{pool_id}")
    assert headers["DataServiceId"] == headers["Location"]
    assert headers["DataServiceVersion"] == "3.0"
    assert headers["request-id"]


def test_pool_get_exists_and_conflict(batch_client, unique_name):
    pool_id = unique_name("pool")
    batch_client.create_pool(
        pool_options(
            pool_id, nodes=1, slots=2, metadata=[bm.BatchMetadataItem(name="k", value="v")]
        )
    )
    assert batch_client.pool_exists(pool_id) is True
    pool = wait_for(
        lambda: batch_client.get_pool(pool_id),
        lambda p: p.allocation_state == bm.AllocationState.STEADY,
        "steady pool",
    )
    assert pool.state == bm.BatchPoolState.ACTIVE
    assert pool.current_dedicated_nodes == 1 and pool.task_slots_per_node == 2
    assert pool.vm_size == "standard_d2s_v3"
    assert pool.virtual_machine_configuration.node_agent_sku_id == "batch.node.ubuntu 22.04"
    assert pool.metadata[0].name == "k" and pool.url.endswith(f"/pools/{pool_id}")
    with pytest.raises(ResourceExistsError) as caught:
        batch_client.create_pool(pool_options(pool_id))
    assert caught.value.status_code == 409 and caught.value.error.code == "PoolExists"
    with pytest.raises(ResourceNotFoundError) as missing:
        batch_client.get_pool(unique_name("absent"))
    assert missing.value.error.code == "PoolNotFound"


def test_missing_required_property_is_named(batch_client, unique_name):
    options = bm.BatchPoolCreateOptions(id=unique_name("novm"), vm_size="STANDARD_D2S_V3")
    with pytest.raises(HttpResponseError) as caught:
        batch_client.create_pool(options)
    assert caught.value.status_code == 400
    assert caught.value.error.code == "MissingRequiredProperty"
    values = {v["key"]: v["value"] for v in caught.value.response.json()["values"]}
    assert values == {"PropertyName": "virtualMachineConfiguration"}


def test_pool_update_replace_and_resize(batch_client, unique_name):
    pool_id = unique_name("upd")
    batch_client.create_pool(pool_options(pool_id, nodes=1))
    batch_client.update_pool(
        pool_id,
        bm.BatchPoolUpdateOptions(
            metadata=[bm.BatchMetadataItem(name="a", value="1")],
            start_task=bm.BatchStartTask(command_line="true"),
        ),
    )
    pool = batch_client.get_pool(pool_id)
    assert pool.metadata[0].value == "1" and pool.start_task.command_line == "true"
    batch_client.replace_pool_properties(
        pool_id, bm.BatchPoolReplaceOptions(application_package_references=[], metadata=[])
    )
    pool = batch_client.get_pool(pool_id)
    assert pool.start_task is None and not pool.metadata
    wait_for(
        lambda: batch_client.get_pool(pool_id),
        lambda p: p.allocation_state == bm.AllocationState.STEADY,
        "steady pool",
    )
    batch_client.begin_resize_pool(
        pool_id, bm.BatchPoolResizeOptions(target_dedicated_nodes=3), polling_interval=0
    ).result()
    assert len(list(batch_client.list_nodes(pool_id))) == 3
    assert batch_client.get_pool(pool_id).current_dedicated_nodes == 3
    batch_client.begin_resize_pool(
        pool_id, bm.BatchPoolResizeOptions(target_dedicated_nodes=1), polling_interval=0
    ).result()
    assert len(list(batch_client.list_nodes(pool_id))) == 1
    batch_client.begin_resize_pool(
        pool_id, bm.BatchPoolResizeOptions(target_dedicated_nodes=3), polling_interval=0
    ).result()
    assert len({n.id for n in batch_client.list_nodes(pool_id)}) == 3


def test_pool_delete_shows_deleting_then_not_found(batch_client, unique_name):
    pool_id = unique_name("del")
    batch_client.create_pool(pool_options(pool_id, nodes=1))
    poller = batch_client.begin_delete_pool(pool_id, polling_interval=0)
    assert batch_client.get_pool(pool_id).state == bm.BatchPoolState.DELETING
    with pytest.raises(HttpResponseError) as caught:
        batch_client.create_pool(pool_options(pool_id))
    assert caught.value.status_code == 409 and caught.value.error.code == "PoolBeingDeleted"
    poller.result()
    with pytest.raises(ResourceNotFoundError) as missing:
        batch_client.get_pool(pool_id)
    assert missing.value.error.code == "PoolNotFound"


def test_job_create_conflict_list_and_get(batch_client, unique_name):
    name = unique_name("job")
    pool_id, job_id = make_pool_and_job(batch_client, name, nodes=0)
    with pytest.raises(ResourceExistsError) as caught:
        batch_client.create_job(
            bm.BatchJobCreateOptions(id=job_id, pool_info=bm.BatchPoolInfo(pool_id=pool_id))
        )
    assert caught.value.error.code == "JobExists"
    job = batch_client.get_job(job_id)
    assert job.state == bm.BatchJobState.ACTIVE and job.pool_info.pool_id == pool_id
    assert job.all_tasks_complete_mode == bm.BatchAllTasksCompleteMode.NO_ACTION
    assert job_id in {j.id for j in batch_client.list_jobs()}
    with pytest.raises(ResourceNotFoundError) as missing:
        batch_client.get_job(unique_name("nojob"))
    assert missing.value.error.code == "JobNotFound"


def test_job_terminate_then_delete(batch_client, unique_name):
    _, job_id = make_pool_and_job(batch_client, unique_name("term"), nodes=0)
    # azure-batch 15.1 sets no content type unless the options carry a value.
    batch_client.begin_terminate_job(
        job_id, BatchJobTerminateOptions(termination_reason="EnoughWork"), polling_interval=0
    ).result()
    job = batch_client.get_job(job_id)
    assert job.state == bm.BatchJobState.COMPLETED
    assert job.execution_info.termination_reason == "EnoughWork"
    with pytest.raises(HttpResponseError) as caught:
        batch_client.create_task(job_id, bm.BatchTaskCreateOptions(id="t", command_line="true"))
    assert caught.value.status_code == 409 and caught.value.error.code == "JobCompleted"
    poller = batch_client.begin_delete_job(job_id, polling_interval=0)
    assert batch_client.get_job(job_id).state == bm.BatchJobState.DELETING
    poller.result()
    with pytest.raises(ResourceNotFoundError):
        batch_client.get_job(job_id)


def test_if_match_guards_writes_with_the_etag(batch_client, unique_name):
    from azure.core import MatchConditions
    from azure.core.exceptions import ResourceModifiedError

    pool_id = unique_name("etag")
    batch_client.create_pool(pool_options(pool_id, nodes=0))
    etag = batch_client.get_pool(pool_id).etag
    with pytest.raises(ResourceModifiedError) as caught:
        batch_client.update_pool(
            pool_id,
            bm.BatchPoolUpdateOptions(metadata=[]),
            etag="0x8D0000000000000",
            match_condition=MatchConditions.IfNotModified,
        )
    assert caught.value.status_code == 412 and caught.value.error.code == "ConditionNotMet"
    batch_client.update_pool(
        pool_id,
        bm.BatchPoolUpdateOptions(metadata=[]),
        etag=etag,
        match_condition=MatchConditions.IfNotModified,
    )
    assert batch_client.get_pool(pool_id).etag != etag


def test_transitions_slow_down_node_allocation(batch_client, transitions, unique_name):
    transitions({"batch.pool.allocation": {"mode": "seconds", "value": 1}})
    pool_id = unique_name("slowpool")
    batch_client.create_pool(pool_options(pool_id, nodes=2))
    pool = batch_client.get_pool(pool_id)
    assert pool.allocation_state == bm.AllocationState.RESIZING
    assert pool.current_dedicated_nodes == 0 and not list(batch_client.list_nodes(pool_id))
    pool = wait_for(
        lambda: batch_client.get_pool(pool_id),
        lambda p: p.allocation_state == bm.AllocationState.STEADY,
        "steady pool",
    )
    assert pool.current_dedicated_nodes == 2


def test_malformed_and_out_of_range_bodies_are_refused(batch_client, unique_name):
    from azure.core.rest import HttpRequest

    with pytest.raises(HttpResponseError) as caught:
        batch_client.send_request(
            HttpRequest(
                "POST",
                "/pools?api-version=2025-06-01",
                content=b"{not json",
                headers={"Content-Type": "application/json; odata=minimalmetadata"},
            )
        )
    assert caught.value.status_code == 400 and caught.value.error.code == "InvalidRequestBody"
    with pytest.raises(HttpResponseError) as slots:
        batch_client.create_pool(pool_options(unique_name("zero"), slots=0))
    assert slots.value.error.code == "InvalidPropertyValue"
    values = {v["key"]: v["value"] for v in slots.value.response.json()["values"]}
    assert values["PropertyName"] == "taskSlotsPerNode"


def test_supported_images_and_node_counts(batch_client, unique_name):
    images = list(batch_client.list_supported_images(filter="osType eq 'linux'"))
    skus = {i.node_agent_sku_id for i in images}
    assert "batch.node.ubuntu 22.04" in skus
    assert all(i.verification_type == bm.ImageVerificationType.VERIFIED for i in images)
    pool_id = unique_name("counted")
    batch_client.create_pool(pool_options(pool_id, nodes=2))
    counts = wait_for(
        lambda: {c.pool_id: c for c in batch_client.list_pool_node_counts()}.get(pool_id),
        lambda c: c is not None and c.dedicated.idle == 2,
        "two idle nodes",
    )
    assert counts.dedicated.total == 2 and counts.low_priority.total == 0
