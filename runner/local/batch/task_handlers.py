"""Task, task-count and file handlers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from flask import Response, request

from runner.local.batch import files, jobs, pools, tasks, versions
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
from runner.local.batch.query import compile_filter, page
from runner.local.batch.service import BatchService
from runner.local.batch.wire import select, task_out, task_url
from runner.local.nodes import layout


def create_task(batch: BatchService, job_id: str) -> Response:
    doc = tasks.create_task(batch.state, job_id, body())
    return created(task_url(base_url(), job_id, doc["id"]), doc)


def create_task_collection(batch: BatchService, job_id: str) -> Response:
    values = body().get("value")
    if not isinstance(values, list):
        raise BatchServiceError("MissingRequiredProperty", PropertyName="value")
    job, results = tasks.create_tasks(batch.state, job_id, values)
    for result in results:
        if result["status"] == "success":
            result["location"] = task_url(base_url(), job["id"], result["taskId"])
    # Azure's recorded answers (and the REST docs since 2016) name the result so.
    return ok({"value": results}, "taskaddresult")


def list_tasks(batch: BatchService, job_id: str) -> Response:
    keep = compile_filter(request.args.get("$filter"))
    with batch.state.lock:
        job = jobs.get_job(batch.state, job_id)
        # Filter and page the live documents; only the page is copied out.
        body = page(
            [t for t in batch.state.tasks[job["id"]].values() if keep(t)],
            request.args,
            base_url(),
            f"/jobs/{job_id}/tasks",
        )
        body["value"] = [
            select(task_out(t, job["id"], base_url()), request.args.get("$select"))
            for t in body["value"]
        ]
    return ok(body, "tasks")


def get_task(batch: BatchService, job_id: str, task_id: str) -> Response:
    with batch.state.lock:
        job, doc = tasks.get_task(batch.state, job_id, task_id)
        out = task_out(doc, job["id"], base_url())
    if (unchanged := preconditions(out)) is not None:
        return unchanged
    return ok(select(out, request.args.get("$select")), "tasks/@Element", out)


def delete_task(batch: BatchService, job_id: str, task_id: str) -> Response:
    tasks.delete_task(batch.state, job_id, task_id)
    return no_content(200)


def replace_task(batch: BatchService, job_id: str, task_id: str) -> Response:
    return action(200, tasks.replace_task(batch.state, job_id, task_id, body()))


def reactivate_task(batch: BatchService, job_id: str, task_id: str) -> Response:
    return action(204, tasks.reactivate_task(batch.state, job_id, task_id))


def list_subtasks(batch: BatchService, job_id: str, task_id: str) -> Response:
    with batch.state.lock:
        tasks.get_task(batch.state, job_id, task_id)
    # Only multi-instance tasks have subtasks, and they are not emulated.
    return ok({"value": []}, "Microsoft.Azure.Batch.Protocol.Entities.SubtaskInformations")


def delete_task_file(batch: BatchService, job_id: str, task_id: str, file_path: str) -> Response:
    folder, _ = _task_folder(batch, job_id, task_id)
    if folder is None:
        raise BatchServiceError("FileNotFound")
    files.delete(folder, file_path, request.args.get("recursive", "false").lower() == "true")
    return no_content(200)  # Batch names no DataServiceId here


def terminate_task(batch: BatchService, job_id: str, task_id: str) -> Response:
    tasks.terminate_task(batch.state, job_id, task_id)
    with batch.state.lock:
        _, doc = tasks.get_task(batch.state, job_id, task_id)
        entity = dict(doc)
    return action(204, entity)


def task_counts(batch: BatchService, job_id: str) -> Response:
    result = tasks.task_counts(batch.state, job_id)
    version = api_version()
    if versions.since(version, versions.TASK_SLOTS_SINCE):
        return ok(result, "taskcountsresult/@Element")
    # Before task slots the answer was the task counts themselves (TaskCounts).
    counts = dict(result["taskCounts"])
    if not versions.since(version, versions.NO_VALIDATION_STATUS_SINCE):
        counts["validationStatus"] = "validated"
    return ok(counts, "taskcounts/@Element")


def _task_folder(batch: BatchService, job_id: str, task_id: str) -> tuple[Path | None, str]:
    with batch.state.lock:
        job, doc = tasks.get_task(batch.state, job_id, task_id)
        info = doc.get("nodeInfo")
    url = f"{task_url(base_url(), job['id'], doc['id'])}/files"
    if not info:
        return None, url
    root = layout.node_root(batch.state_dir, info["poolId"], info["nodeId"])
    return root / info["taskRootDirectory"], url


def _node_folder(batch: BatchService, pool_id: str, node_id: str) -> tuple[Path, str]:
    with batch.state.lock:
        pool = pools.get_pool(batch.state, pool_id)
        node = pools.get_node(batch.state, pool_id, node_id)
    url = f"{base_url()}/pools/{pool['id']}/nodes/{node['id']}/files"
    root = layout.node_root(batch.state_dir, pool["id"], node["id"])
    return root, url


def _list(folder: Path | None, url: str, route: str) -> Response:
    recursive = request.args.get("recursive", "false").lower() == "true"
    items = files.list_files(folder, recursive, url) if folder else []
    keep = compile_filter(request.args.get("$filter"))
    items = [i for i in items if keep(i)]
    return ok(page(items, request.args, base_url(), route), "files")


def _serve(folder: Path | None, relative: str, url: str) -> Response:
    if folder is None:
        raise BatchServiceError("FileNotFound")
    path = files.resolve(folder, relative)
    headers = files.headers(path, f"{url}/{relative}")
    if path.is_dir():
        return no_content(200, entity=None) if request.method == "HEAD" else _dir_error()
    size = path.stat().st_size
    span = files.byte_range(request.headers.get("ocp-range"), size)
    start, end = span if span else (0, size - 1)
    length = max(0, end - start + 1)
    response = no_content(200)
    response.headers.update(headers)
    if request.method != "HEAD":
        response.response = _chunks(path, start, length)
        response.direct_passthrough = True
    response.headers["Content-Length"] = str(length)
    return response


def _chunks(path: Path, start: int, length: int) -> Iterator[bytes]:
    """The file's bytes in chunks, so large task outputs never sit in memory."""
    with path.open("rb") as handle:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(length, 1 << 20))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def _dir_error() -> Response:
    raise BatchServiceError("OperationNotValidAtThisTime", "The specified path is a directory.")


def list_task_files(batch: BatchService, job_id: str, task_id: str) -> Response:
    folder, url = _task_folder(batch, job_id, task_id)
    return _list(folder, url, f"/jobs/{job_id}/tasks/{task_id}/files")


def get_task_file(batch: BatchService, job_id: str, task_id: str, file_path: str) -> Response:
    folder, url = _task_folder(batch, job_id, task_id)
    return _serve(folder, file_path, url)


def list_node_files(batch: BatchService, pool_id: str, node_id: str) -> Response:
    folder, url = _node_folder(batch, pool_id, node_id)
    return _list(folder, url, f"/pools/{pool_id}/nodes/{node_id}/files")


def get_node_file(batch: BatchService, pool_id: str, node_id: str, file_path: str) -> Response:
    folder, url = _node_folder(batch, pool_id, node_id)
    return _serve(folder, file_path, url)
