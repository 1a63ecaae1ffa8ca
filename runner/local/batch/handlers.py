"""Pool and job handlers: read the request, call the rules, answer as Batch does."""

from __future__ import annotations

import time

from flask import Response, request

from runner.local.batch import jobs, pools, versions
from runner.local.batch.errors import BatchServiceError
from runner.local.batch.http import (
    action,
    api_version,
    base_url,
    body,
    created,
    no_content,
    ok,
    preconditions,
)
from runner.local.batch.query import by_id, compile_filter, page
from runner.local.batch.service import BatchService
from runner.local.batch.wire import job_out, node_out, pool_out, select


def _guard_pool(batch: BatchService, pool_id: str) -> None:
    with batch.state.lock:
        preconditions(dict(pools.get_pool(batch.state, pool_id)))


def _guard_job(batch: BatchService, job_id: str) -> None:
    with batch.state.lock:
        preconditions(dict(jobs.get_job(batch.state, job_id)))


def _slow_pool(batch: BatchService, pool_id: str, *, gone: bool = False) -> None:
    """An injected ``lro_latency`` fault holds the pool's resize (or its delete, when
    ``gone``) that long (see faults.py)."""
    latency = batch.faults.lro_latency("batch", request.method, request.path)
    if latency:
        with batch.state.lock:
            record = batch.state.pool_runtime(pool_id)
            if gone:
                record.gone_at = time.time() + latency
            else:
                record.steady_at = time.time() + latency


def _slow_job_delete(batch: BatchService, job_id: str) -> None:
    latency = batch.faults.lro_latency("batch", request.method, request.path)
    if latency:
        with batch.state.lock:
            batch.state.job_runtime(job_id).gone_at = time.time() + latency


def _legacy() -> bool:
    """Whether the request's api-version still accepts cloud service pools."""
    return versions.cloud_services(api_version())


def create_pool(batch: BatchService) -> Response:
    doc = pools.create_pool(batch.state, body(), _legacy())
    _slow_pool(batch, doc["id"])
    return created(f"{base_url()}/pools/{doc['id']}", doc)


def list_pools(batch: BatchService) -> Response:
    keep = compile_filter(request.args.get("$filter"))
    with batch.state.lock:
        body = page(
            by_id(p for p in batch.state.pools.values() if keep(p)),
            request.args,
            base_url(),
            "/pools",
        )
        body["value"] = [
            select(pool_out(p, base_url()), request.args.get("$select")) for p in body["value"]
        ]
    return ok(body, "pools")


def get_pool(batch: BatchService, pool_id: str) -> Response:
    with batch.state.lock:
        doc = pool_out(pools.get_pool(batch.state, pool_id), base_url())
    if (unchanged := preconditions(doc)) is not None:
        return unchanged
    return ok(select(doc, request.args.get("$select")), "pools/@Element", doc)


def pool_exists(batch: BatchService, pool_id: str) -> Response:
    try:
        with batch.state.lock:
            doc = dict(pools.get_pool(batch.state, pool_id))
    except BatchServiceError:
        return no_content(404)
    return no_content(200, entity=doc)


def patch_pool(batch: BatchService, pool_id: str) -> Response:
    _guard_pool(batch, pool_id)
    doc = pools.patch_pool(batch.state, pool_id, body())
    return action(200, doc)


def replace_pool_properties(batch: BatchService, pool_id: str) -> Response:
    doc = pools.replace_pool_properties(batch.state, pool_id, body())
    return action(204, doc)


def resize_pool(batch: BatchService, pool_id: str) -> Response:
    doc = pools.resize_pool(batch.state, pool_id, body())
    _slow_pool(batch, doc["id"])
    return action(202, doc)


def stop_resize(batch: BatchService, pool_id: str) -> Response:
    doc = pools.stop_resize(batch.state, pool_id)
    return action(202, doc)


def delete_pool(batch: BatchService, pool_id: str) -> Response:
    _guard_pool(batch, pool_id)
    _slow_pool(batch, pools.delete_pool(batch.state, pool_id)["id"], gone=True)
    return no_content(202)


def list_nodes(batch: BatchService, pool_id: str) -> Response:
    keep = compile_filter(request.args.get("$filter"))
    with batch.state.lock:
        pool = pools.get_pool(batch.state, pool_id)
        items = [
            node_out(n, pool["id"], base_url())
            for n in by_id(batch.state.nodes.get(pool["id"], {}).values())
        ]
    items = [select(n, request.args.get("$select")) for n in items if keep(n)]
    return ok(page(items, request.args, base_url(), f"/pools/{pool_id}/nodes"), "nodes")


def get_node(batch: BatchService, pool_id: str, node_id: str) -> Response:
    with batch.state.lock:
        doc = node_out(pools.get_node(batch.state, pool_id, node_id), pool_id, base_url())
    return ok(select(doc, request.args.get("$select")), "nodes/@Element")


def create_job(batch: BatchService) -> Response:
    doc = jobs.create_job(batch.state, body(), _legacy())
    # Batch names the job's first execution ("job-1", as in a task's root folder
    # workitems/<job>/job-1/<task>) in both headers; Azure's recorded answers show it.
    return created(f"{base_url()}/jobs/job-1", doc)


def list_jobs(batch: BatchService) -> Response:
    keep = compile_filter(request.args.get("$filter"))
    with batch.state.lock:
        body = page(
            by_id(j for j in batch.state.jobs.values() if keep(j)),
            request.args,
            base_url(),
            "/jobs",
        )
        body["value"] = [
            select(job_out(j, base_url()), request.args.get("$select")) for j in body["value"]
        ]
    return ok(body, "jobs")


def get_job(batch: BatchService, job_id: str) -> Response:
    with batch.state.lock:
        doc = job_out(jobs.get_job(batch.state, job_id), base_url())
    if (unchanged := preconditions(doc)) is not None:
        return unchanged
    return ok(select(doc, request.args.get("$select")), "jobs/@Element", doc)


def patch_job(batch: BatchService, job_id: str) -> Response:
    _guard_job(batch, job_id)
    doc = jobs.patch_job(batch.state, job_id, body(), replace=request.method == "PUT")
    return action(200, doc)


def terminate_job(batch: BatchService, job_id: str) -> Response:
    _guard_job(batch, job_id)
    reason = body(optional=True).get("terminateReason")
    return action(202, jobs.terminate_job(batch.state, job_id, reason))


def disable_job(batch: BatchService, job_id: str) -> Response:
    _guard_job(batch, job_id)
    return action(202, jobs.disable_job(batch.state, job_id, body()))


def enable_job(batch: BatchService, job_id: str) -> Response:
    _guard_job(batch, job_id)
    return action(202, jobs.enable_job(batch.state, job_id))


def preparation_and_release_status(batch: BatchService, job_id: str) -> Response:
    with batch.state.lock:
        jobs.get_job(batch.state, job_id)
    # No job preparation or release task runs locally, so no node has a status to list.
    return ok({"value": []}, "jobpreparationandreleasetaskstatuslist")


def delete_job(batch: BatchService, job_id: str) -> Response:
    _guard_job(batch, job_id)
    _slow_job_delete(batch, jobs.delete_job(batch.state, job_id)["id"])
    return no_content(202)
