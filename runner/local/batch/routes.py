"""The Batch route table: URL templates and methods of azure-batch 15's operations."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from runner.local.batch import account as a
from runner.local.batch import handlers as h
from runner.local.batch import node_handlers as n
from runner.local.batch import pool_actions as p
from runner.local.batch import task_handlers as t

Handler = Callable[..., Response]

# (rule, methods, handler); paths and verbs from azure/batch/_operations/_operations.py.
# Each handler takes the account's ``BatchService`` first, then the rule's variables.
ROUTES: list[tuple[str, tuple[str, ...], Handler]] = [
    ("/applications", ("GET",), a.list_applications),
    ("/applications/<application_id>", ("GET",), a.get_application),
    ("/poolusagemetrics", ("GET",), p.list_usage_metrics),
    ("/jobschedules", ("GET",), a.list_job_schedules),
    (
        "/jobschedules/<schedule_id>",
        ("GET", "HEAD", "PATCH", "PUT", "DELETE"),
        a.job_schedule_not_found,
    ),
    ("/jobschedules/<schedule_id>/<action>", ("GET", "POST"), a.job_schedule_not_found),
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
    ("/pools/<pool_id>/enableautoscale", ("POST",), p.enable_auto_scale),
    ("/pools/<pool_id>/disableautoscale", ("POST",), p.disable_auto_scale),
    ("/pools/<pool_id>/evaluateautoscale", ("POST",), p.evaluate_auto_scale),
    ("/pools/<pool_id>/removenodes", ("POST",), p.remove_nodes),
    ("/pools/<pool_id>/nodes", ("GET",), h.list_nodes),
    ("/pools/<pool_id>/nodes/<node_id>", ("GET",), h.get_node),
    ("/pools/<pool_id>/nodes/<node_id>/files", ("GET",), t.list_node_files),
    ("/pools/<pool_id>/nodes/<node_id>/files/<path:file_path>", ("GET", "HEAD"), t.get_node_file),
    ("/pools/<pool_id>/nodes/<node_id>/files/<path:file_path>", ("DELETE",), n.delete_node_file),
    ("/pools/<pool_id>/nodes/<node_id>/disablescheduling", ("POST",), n.disable_scheduling),
    ("/pools/<pool_id>/nodes/<node_id>/enablescheduling", ("POST",), n.enable_scheduling),
    ("/pools/<pool_id>/nodes/<node_id>/reboot", ("POST",), n.reboot),
    ("/pools/<pool_id>/nodes/<node_id>/reimage", ("POST",), n.reimage),
    ("/pools/<pool_id>/nodes/<node_id>/users", ("POST",), n.create_user),
    ("/pools/<pool_id>/nodes/<node_id>/users/<user_name>", ("PUT",), n.replace_user),
    ("/pools/<pool_id>/nodes/<node_id>/users/<user_name>", ("DELETE",), n.delete_user),
    ("/pools/<pool_id>/nodes/<node_id>/remoteloginsettings", ("GET",), n.remote_login_settings),
    ("/pools/<pool_id>/nodes/<node_id>/uploadbatchservicelogs", ("POST",), n.upload_logs),
    ("/jobs", ("POST",), h.create_job),
    ("/jobs", ("GET",), h.list_jobs),
    ("/jobs/<job_id>", ("GET",), h.get_job),
    ("/jobs/<job_id>", ("PATCH", "PUT"), h.patch_job),
    ("/jobs/<job_id>", ("DELETE",), h.delete_job),
    ("/jobs/<job_id>/terminate", ("POST",), h.terminate_job),
    ("/jobs/<job_id>/disable", ("POST",), h.disable_job),
    ("/jobs/<job_id>/enable", ("POST",), h.enable_job),
    (
        "/jobs/<job_id>/jobpreparationandreleasetaskstatus",
        ("GET",),
        h.preparation_and_release_status,
    ),
    ("/jobs/<job_id>/taskcounts", ("GET",), t.task_counts),
    ("/jobs/<job_id>/tasks", ("POST",), t.create_task),
    ("/jobs/<job_id>/tasks", ("GET",), t.list_tasks),
    ("/jobs/<job_id>/addtaskcollection", ("POST",), t.create_task_collection),
    ("/jobs/<job_id>/tasks/<task_id>", ("GET",), t.get_task),
    ("/jobs/<job_id>/tasks/<task_id>", ("PUT",), t.replace_task),
    ("/jobs/<job_id>/tasks/<task_id>", ("DELETE",), t.delete_task),
    ("/jobs/<job_id>/tasks/<task_id>/reactivate", ("POST",), t.reactivate_task),
    ("/jobs/<job_id>/tasks/<task_id>/subtasksinfo", ("GET",), t.list_subtasks),
    ("/jobs/<job_id>/tasks/<task_id>/terminate", ("POST",), t.terminate_task),
    ("/jobs/<job_id>/tasks/<task_id>/files", ("GET",), t.list_task_files),
    ("/jobs/<job_id>/tasks/<task_id>/files/<path:file_path>", ("GET", "HEAD"), t.get_task_file),
    ("/jobs/<job_id>/tasks/<task_id>/files/<path:file_path>", ("DELETE",), t.delete_task_file),
]
