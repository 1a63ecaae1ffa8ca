"""A resize that stops short shows Batch's resize errors on the pool.

Batch reports a resize that could not reach its targets on the pool, once it is steady
again: ``resizeErrors`` with a code, a message and name/value details (the ResizeError of
azure-rest-api-specs; codes such as ``AllocationFailed``, ``AccountCoreQuotaReached`` and
``ResizeStopped`` in Microsoft.Azure.Batch's PoolResizeErrorCodes). A local node is a
folder: when it cannot be made, the node could not be allocated.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from azure.batch import models as bm
from azure.core.rest import HttpRequest
from batch_helpers import pool_options
from waiting import wait_for

from runner.local.nodes import layout

pytestmark = pytest.mark.integration


def test_a_node_that_cannot_be_made_stops_the_resize_with_allocation_failed(
    batch_client, unique_name
):
    pool_id = unique_name("short")
    # A file where the pool's node folders go: no node of this pool can be made.
    blocker = layout.nodes_root(Path(os.environ["RUNNER_LOCAL_DIR"])) / pool_id
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("")
    try:
        batch_client.create_pool(pool_options(pool_id, nodes=2))
        pool = wait_for(
            lambda: batch_client.get_pool(pool_id),
            lambda p: p.allocation_state == bm.AllocationState.STEADY,
            "the resize to end",
        )
        assert (pool.current_dedicated_nodes, pool.target_dedicated_nodes) == (0, 2)
        (error,) = pool.resize_errors
        assert error.code == "AllocationFailed"
        assert error.message == "Desired number of dedicated nodes could not be allocated"
        assert [v.name for v in error.error_values] == ["Reason"]

        wire = batch_client.send_request(
            HttpRequest("GET", f"/pools/{pool_id}?api-version=2025-06-01")
        ).json()
        (shown,) = wire["resizeErrors"]
        assert set(shown) == {"code", "message", "values"}
        assert set(shown["values"][0]) == {"name", "value"}
    finally:
        blocker.unlink()

    # Once nodes can be made again, the next resize reaches its target, its errors gone.
    batch_client.begin_resize_pool(
        pool_id, bm.BatchPoolResizeOptions(target_dedicated_nodes=1), polling_interval=0
    ).result()
    pool = batch_client.get_pool(pool_id)
    assert pool.current_dedicated_nodes == 1 and not pool.resize_errors
    batch_client.begin_delete_pool(pool_id, polling_interval=0).result()
