"""A node's folders and the ``AZ_BATCH_*`` variables its tasks see, as on a Linux Batch node.

On Azure the node root is ``/mnt/batch/tasks`` with ``shared``, ``startup``,
``workitems/<job>/job-1/<task>/wd`` and friends (Batch docs, "Files and directories" and
"Compute node environment variables"). Here each node's root is a folder under the
emulator's state folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

NODE_FOLDERS = ("shared", "startup", "workitems", "applications", "fsmounts", "volatile")


def nodes_root(state_dir: Path) -> Path:
    return Path(state_dir) / "batch" / "nodes"


def node_root(state_dir: Path, pool_id: str, node_id: str) -> Path:
    return nodes_root(state_dir) / pool_id / node_id


def new_node_id(pool_id: str, index: int, salt: str) -> str:
    """Shaped like Azure's dedicated node ids: ``tvmps_<64 hex>_d``."""
    digest = hashlib.sha256(f"{pool_id}/{index}/{salt}".encode()).hexdigest()
    return f"tvmps_{digest}_d"


def make_node(root: Path) -> None:
    for name in NODE_FOLDERS:
        (root / name).mkdir(parents=True, exist_ok=True)


def start_task_dir(root: Path) -> Path:
    return root / "startup"


def task_dir(root: Path, job_id: str, task_id: str) -> Path:
    return root / "workitems" / job_id / "job-1" / task_id


def task_root_relative(job_id: str, task_id: str) -> str:
    """The task folder relative to the node root, as ``nodeInfo.taskRootDirectory`` gives it."""
    return f"workitems/{job_id}/job-1/{task_id}"


def inside(base: Path, path: Path) -> bool:
    """True when ``path`` (resolved, symlinks followed) lies within ``base``."""
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(base))
    except ValueError:
        return False
    return True


def environment(
    *,
    root: Path,
    task_folder: Path,
    account: str,
    account_url: str,
    pool_id: str,
    node_id: str,
    task_id: str | None,
    job_id: str | None,
    settings: list[dict[str, str]],
) -> dict[str, str]:
    """The process environment of a task: a small base, Batch's variables, the task's own."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": str(task_folder / "wd"),
        "AZ_BATCH_ACCOUNT_NAME": account,
        "AZ_BATCH_ACCOUNT_URL": account_url,
        "AZ_BATCH_POOL_ID": pool_id,
        "AZ_BATCH_NODE_ID": node_id,
        "AZ_BATCH_NODE_IS_DEDICATED": "true",
        "AZ_BATCH_NODE_ROOT_DIR": str(root),
        "AZ_BATCH_NODE_SHARED_DIR": str(root / "shared"),
        "AZ_BATCH_NODE_STARTUP_DIR": str(root / "startup"),
        "AZ_BATCH_NODE_STARTUP_WORKING_DIR": str(root / "startup" / "wd"),
        "AZ_BATCH_NODE_MOUNTS_DIR": str(root / "fsmounts"),
        "AZ_BATCH_TASK_DIR": str(task_folder),
        "AZ_BATCH_TASK_WORKING_DIR": str(task_folder / "wd"),
        "AZ_BATCH_TASK_USER": "_azbatch",
        "AZ_BATCH_TASK_USER_IDENTITY": "PoolNonAdmin",
        "AZ_BATCH_CERTIFICATES_DIR": str(task_folder / "certs"),
    }
    if job_id is not None:
        env["AZ_BATCH_JOB_ID"] = job_id
    if task_id is not None:
        env["AZ_BATCH_TASK_ID"] = task_id
    for item in settings:
        if item.get("name"):
            env[item["name"]] = item.get("value") or ""
    return env
