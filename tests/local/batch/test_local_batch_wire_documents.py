"""What the emulator keeps of an entity for itself (timers, counters, processes, node users)
never reaches the wire: every raw answer holds Batch's properties alone."""

from __future__ import annotations

from typing import Any

import pytest
from azure.batch import models as bm
from azure.core.rest import HttpRequest
from batch_helpers import make_pool_and_job, wait_task_completed
from waiting import wait_for

pytestmark = pytest.mark.integration

VERSION = "api-version=2025-06-01"


def keys(value: Any) -> set[str]:
    """Every property name in a JSON value, at any depth."""
    if isinstance(value, dict):
        return set(value).union(*(keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value))
    return set()


def test_pools_nodes_jobs_and_tasks_are_sent_without_the_emulators_bookkeeping(
    batch_client, unique_name
):
    pool_id, job_id = make_pool_and_job(batch_client, unique_name("wire"), nodes=1)
    batch_client.create_task(job_id, bm.BatchTaskCreateOptions(id="one", command_line="true"))
    wait_task_completed(batch_client, job_id, "one")
    node = wait_for(lambda: list(batch_client.list_nodes(pool_id)), bool, "a node")[0]
    user = bm.BatchNodeUserCreateOptions(name="someone", password="secret", is_admin=False)
    batch_client.create_node_user(pool_id, node.id, user)

    for path in (
        f"/pools/{pool_id}",
        f"/pools/{pool_id}/nodes",
        f"/pools/{pool_id}/nodes/{node.id}",
        "/pools",
        f"/jobs/{job_id}",
        "/jobs",
        f"/jobs/{job_id}/tasks",
        f"/jobs/{job_id}/tasks/one",
    ):
        answer = batch_client.send_request(HttpRequest("GET", f"{path}?{VERSION}"))
        assert answer.status_code == 200, path
        private = {k for k in keys(answer.json()) if k.startswith("_")}
        assert private == set(), path
