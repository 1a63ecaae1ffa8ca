"""The Batch route table: URL templates and methods of azure-batch 15's operations."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from runner.local.batch import account as a
from runner.local.batch import handlers as h
from runner.local.batch import task_handlers as t

Handler = Callable[..., Response]

# (rule, methods, handler); paths and verbs from azure/batch/_operations/_operations.py.
ROUTES: list[tuple[str, tuple[str, ...], Handler]] = [
    ("/supportedimages", ("GET",), a.list_supported_images),
    ("/nodecounts", ("GET",), a.list_pool_node_counts),
    ("/pools", ("POST",), h.create_pool),
    ("/pools", ("GET",), h.list_pools),
    # HEAD before GET: Flask lets a GET rule answer HEAD too, and the first match wins.
    ("/pools/<pool_id>", ("HEAD",), h.pool_exists),
    ("/pools/<pool_id>", ("GET",), h.get_pool),
    ("/pools/<pool_id>", ("PATCH",), h.patch_pool),
    ("/pools/<pool_id>", ("DELETE",), h.delete_pool),
    ("/pools/<pool_id>/updateproperties", ("POST",), h.replace_pool_properties),
    ("/pools/<pool_id>/resize", ("POST",), h.resize_pool),
    ("/pools/<pool_id>/stopresize", ("POST",), h.stop_resize),
    ("/pools/<pool_id>/nodes", ("GET",), h.list_nodes),
    ("/pools/<pool_id>/nodes/<node_id>", ("GET",), h.get_node),
    ("/pools/<pool_id>/nodes/<node_id>/files", ("GET",), t.list_node_files),
    ("/pools/<pool_id>/nodes/<node_id>/files/<path:file_path>", ("GET", "HEAD"),
     t.get_node_file),
    ("/jobs", ("POST",), h.create_job),
    ("/jobs", ("GET",), h.list_jobs),
    ("/jobs/<job_id>", ("GET",), h.get_job),
    ("/jobs/<job_id>", ("PATCH", "PUT"), h.patch_job),
    ("/jobs/<job_id>", ("DELETE",), h.delete_job),
    ("/jobs/<job_id>/terminate", ("POST",), h.terminate_job),
    ("/jobs/<job_id>/taskcounts", ("GET",), t.task_counts),
    ("/jobs/<job_id>/tasks", ("POST",), t.create_task),
    ("/jobs/<job_id>/tasks", ("GET",), t.list_tasks),
    ("/jobs/<job_id>/addtaskcollection", ("POST",), t.create_task_collection),
    ("/jobs/<job_id>/tasks/<task_id>", ("GET",), t.get_task),
    ("/jobs/<job_id>/tasks/<task_id>", ("DELETE",), t.delete_task),
    ("/jobs/<job_id>/tasks/<task_id>/terminate", ("POST",), t.terminate_task),
    ("/jobs/<job_id>/tasks/<task_id>/files", ("GET",), t.list_task_files),
    ("/jobs/<job_id>/tasks/<task_id>/files/<path:file_path>", ("GET", "HEAD"),
     t.get_task_file),
]
