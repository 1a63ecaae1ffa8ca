"""Node operations: scheduling, reboot, reimage, users, remote login and node files.

Status codes and headers follow azure-batch 15's expectations (``_operations.py``) and the
recorded traffic of its tests: user creation answers 201, scheduling changes and user
updates 200, reboot 202; every answer names the URL acted on as ``DataServiceId``.
A local node is a folder on this machine: a reboot stops its running tasks (requeued) and
runs its start task again; users are remembered on the node but no account is made.
"""

from __future__ import annotations

from flask import Response, request

from runner.local.batch import files, pools
from runner.local.batch.checks import require
from runner.local.batch.errors import BatchServiceError
from runner.local.batch.http import action, body, no_content, ok, request_id
from runner.local.batch.service import BatchService
from runner.local.batch.state import Doc
from runner.local.batch.wire import parse_iso, set_state
from runner.local.nodes import layout, transfer


def _node_pool(batch: BatchService, pool_id: str) -> str:
    """The pool's id as it was made: Batch ids are case-insensitive, the records are not."""
    return str(pools.get_pool(batch.state, pool_id)["id"])


def _node(batch: BatchService, pool_id: str, node_id: str) -> Doc:
    return pools.get_node(batch.state, pool_id, node_id)


def disable_scheduling(batch: BatchService, pool_id: str, node_id: str) -> Response:
    option = body(optional=True).get("nodeDisableSchedulingOption") or "requeue"
    with batch.state.lock:
        node = _node(batch, pool_id, node_id)
        node["schedulingState"] = "disabled"
        if option in ("requeue", "terminate"):
            reason = "requeue" if option == "requeue" else "terminated"
            batch.scheduler.stop_tasks_on(node["id"], reason)
        batch.state.save_node(_node_pool(batch, pool_id), node)
    return action(200)


def enable_scheduling(batch: BatchService, pool_id: str, node_id: str) -> Response:
    with batch.state.lock:
        node = _node(batch, pool_id, node_id)
        node["schedulingState"] = "enabled"
        batch.state.save_node(_node_pool(batch, pool_id), node)
        batch.state.notify()
    return action(200)


def reboot(batch: BatchService, pool_id: str, node_id: str) -> Response:
    body(optional=True)
    sched = batch.scheduler
    with batch.state.lock:
        node = _node(batch, pool_id, node_id)
        if node["state"] not in ("idle", "running", "starttaskfailed", "unusable"):
            raise BatchServiceError("OperationNotValidOnNode", NodeState=node["state"])
        sched.stop_tasks_on(node["id"], "requeue")
        node.pop("startTaskInfo", None)
        set_state(node, "rebooting")  # the scheduler boots it again on its next pass
        batch.state.save_node(_node_pool(batch, pool_id), node)
        batch.state.notify()
    return action(202)


def reimage(batch: BatchService, pool_id: str, node_id: str) -> Response:
    with batch.state.lock:
        _node(batch, pool_id, node_id)
    # Batch reimages only cloud service nodes; a virtual machine node cannot be reimaged.
    raise BatchServiceError(
        "OperationNotValidOnNode", Reason="Reimage is not supported on virtual machine nodes."
    )


def create_user(batch: BatchService, pool_id: str, node_id: str) -> Response:
    user = body()
    require(user, "name")
    with batch.state.lock:
        node = _node(batch, pool_id, node_id)
        users = _users(batch, pool_id, node)
        if user["name"].lower() in users:
            raise BatchServiceError("NodeUserExists")
        users[user["name"].lower()] = {"name": user["name"], "isAdmin": bool(user.get("isAdmin"))}
        batch.state.save_node(_node_pool(batch, pool_id), node)
    return action(201)


def _users(batch: BatchService, pool_id: str, node: Doc) -> dict[str, Doc]:
    return batch.state.node_runtime(_node_pool(batch, pool_id), node["id"]).users


def _user(users: dict[str, Doc], name: str) -> Doc:
    user = users.get(name.lower())
    if user is None:
        raise BatchServiceError("NodeUserNotFound")
    return user  # type: ignore[no-any-return]


def replace_user(batch: BatchService, pool_id: str, node_id: str, user_name: str) -> Response:
    body()
    with batch.state.lock:
        _user(_users(batch, pool_id, _node(batch, pool_id, node_id)), user_name)
    return action(200)


def delete_user(batch: BatchService, pool_id: str, node_id: str, user_name: str) -> Response:
    with batch.state.lock:
        node = _node(batch, pool_id, node_id)
        users = _users(batch, pool_id, node)
        _user(users, user_name)
        users.pop(user_name.lower(), None)
        batch.state.save_node(_node_pool(batch, pool_id), node)
    return action(200)


def remote_login_settings(batch: BatchService, pool_id: str, node_id: str) -> Response:
    with batch.state.lock:
        node = _node(batch, pool_id, node_id)
        ssh = next(
            (
                e
                for e in node.get("endpointConfiguration", {}).get("inboundEndpoints", [])
                if e.get("backendPort") in (22, 3389)
            ),
            None,
        )
    port = ssh["frontendPort"] if ssh else 22
    return ok(
        {"remoteLoginIPAddress": node.get("ipAddress", "127.0.0.1"), "remoteLoginPort": port},
        "Microsoft.Azure.Batch.Protocol.Entities.ComputeNodeGetRemoteLoginSettingsResult",
    )


def upload_logs(batch: BatchService, pool_id: str, node_id: str) -> Response:
    """Uploads the node's logs to the caller's container. A local node keeps no agent logs,
    so what it uploads is its start task's output, when it has run since ``startTime``."""
    options = body()
    require(options, "containerUrl", "startTime")
    with batch.state.lock:
        pool = pools.get_pool(batch.state, pool_id)
        node = _node(batch, pool_id, node_id)
    root = layout.node_root(batch.state_dir, pool["id"], node["id"])
    try:
        since = parse_iso(str(options["startTime"])).timestamp()
    except ValueError:
        raise BatchServiceError(
            "InvalidPropertyValue", PropertyName="startTime", PropertyValue=options["startTime"]
        ) from None
    folder = f"batch-{batch.state.account}/{pool['id']}/{node['id']}/{request_id()}"
    logs = [
        (path, f"{folder}/startup/{path.name}")
        for path in sorted((root / "startup").glob("std*.txt"))
        if path.is_file() and path.stat().st_mtime >= since
    ]
    try:
        count = transfer.upload_files(str(options["containerUrl"]), logs)
    except transfer.TransferError as err:
        raise BatchServiceError(
            "InvalidPropertyValue", PropertyName="containerUrl", Reason=err.message
        ) from None
    return ok(
        {"virtualDirectoryName": folder, "numberOfFilesUploaded": count},
        "Microsoft.Azure.Batch.Protocol.Entities.UploadBatchServiceLogsResult",
    )


def delete_node_file(batch: BatchService, pool_id: str, node_id: str, file_path: str) -> Response:
    with batch.state.lock:
        pool = pools.get_pool(batch.state, pool_id)
        node = _node(batch, pool_id, node_id)
    root = layout.node_root(batch.state_dir, pool["id"], node["id"])
    files.delete(root, file_path, request.args.get("recursive", "false").lower() == "true")
    return no_content(200)  # Batch names no DataServiceId here
