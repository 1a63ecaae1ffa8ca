"""One task attempt on a node, and a node's start task: fetch, run, upload, report.

These run in their own threads; they read snapshots taken at dispatch and take the state
lock only to record outcomes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from runner.local.batch.state import BatchState
from runner.local.batch.wire import parse_duration
from runner.local.batch.work import Key, Placement
from runner.local.nodes import container_run
from runner.local.nodes.attempt import Running
from runner.local.nodes.container_run import ContainerFailure, Engine, Layout
from runner.local.nodes.launch import ContainerLaunch, Launcher, ProcessLaunch
from runner.local.nodes.layout import environment, start_task_dir, task_dir
from runner.local.nodes.transfer import TransferError, fetch_resource_files, upload_output_files

Doc = dict[str, Any]
log = logging.getLogger("runner.local.batch")
# Stop reasons after which the task is not completed but handled otherwise.
NOT_COMPLETED = ("requeue", "deleted", "shutdown")


class Host(Protocol):
    """What an attempt asks of the scheduler that placed it (``scheduler.Scheduler``)."""

    state: BatchState
    # The Docker engine container tasks run on (None: every container task fails).
    engine: Engine | None

    @property
    def stopping(self) -> bool: ...

    def register(self, key: Key, running: Running) -> bool: ...

    def unregister(self, key: Key, running: Running) -> None: ...

    def job_environment(self, job_id: str) -> list[dict[str, str]]: ...

    def record_retry(self, job_id: str, task_id: str, attempt: int) -> None: ...

    def record_start_retry(self, where: Placement, attempt: int) -> None: ...

    def task_ended(
        self,
        job_id: str,
        task_id: str,
        where: Placement,
        code: int | None,
        fail: Doc | None,
        reason: str | None,
    ) -> None: ...

    def start_task_ended(
        self, where: Placement, code: int | None, fail: Doc | None, reason: str | None
    ) -> None: ...


def failure(code: str, message: str, category: str = "usererror", detail: str = "") -> Doc:
    return {
        "category": category,
        "code": code,
        "message": message,
        "details": [{"name": "Message", "value": detail or message}],
    }


def _container_failure(err: ContainerFailure) -> Doc:
    return failure(err.code, err.message, detail=err.detail)


def _is_container_pool(sched: Host, pool_id: str) -> bool:
    with sched.state.lock:
        pool = sched.state.pools.get(pool_id) or {}
        vm = pool.get("virtualMachineConfiguration") or {}
        return bool(vm.get("containerConfiguration"))


def _launcher(
    sched: Host,
    item: Doc,
    where: Placement,
    folder: Path,
    env: dict[str, str],
    label: str,
    needs_settings: bool,
) -> Launcher:
    """How the task (or start task) ``item`` runs on its node, or ``ContainerFailure`` when
    its container settings do not fit the pool, as the node agent finds at the task's start
    (a container pool's task without them: ``ContainerTaskSettingsNotFound``, Azure's words;
    settings on a pool without containers: ``ContainerInvalidSettings``)."""
    settings = item.get("containerSettings")
    container_pool = _is_container_pool(sched, where.pool_id)
    if not settings:
        if container_pool and needs_settings:
            raise ContainerFailure(
                "ContainerTaskSettingsNotFound",
                "Container-enabled compute node requires task container settings",
                "The task has no containerSettings, and its pool runs its tasks in containers",
            )
        return ProcessLaunch(item["commandLine"], folder / "wd", env, folder)
    if not container_pool:
        raise ContainerFailure(
            "ContainerInvalidSettings",
            "At least one value of specified task container settings is invalid",
            "The task has containerSettings, but its pool has no "
            "virtualMachineConfiguration.containerConfiguration: its nodes run no containers",
        )
    options = container_run.container_options(
        settings, item.get("commandLine") or "", env, Layout(where.root, folder, folder / "wd")
    )
    return ContainerLaunch(sched.engine, options, folder, {container_run.TASK_LABEL: label})


def _retries(constraints: Doc) -> int:
    count = int(constraints.get("maxTaskRetryCount") or 0)
    return 1_000_000 if count < 0 else count


def _attempts(
    sched: Host,
    key: Key,
    launcher: Launcher,
    limit: float | None,
    retries: int,
    on_retry: Callable[[int], None],
) -> tuple[int, bool, str | None]:
    """Runs the attempt, retrying a nonzero exit up to ``retries`` times."""
    deadline = None if limit is None else time.monotonic() + limit
    attempt = 0
    while True:
        running = launcher.start()
        if not sched.register(key, running):
            running.stop("shutdown")
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        code, timed_out = launcher.wait(running, remaining)
        sched.unregister(key, running)
        reason = "timeout" if timed_out else running.stop_reason
        if reason is not None or code == 0 or attempt >= retries:
            return code, timed_out, reason
        attempt += 1
        on_retry(attempt)


def _attempt_failure(code: int, timed_out: bool, reason: str | None) -> Doc | None:
    if timed_out:
        return failure(
            "MaxWallClockTimeExpiry",
            "The task ran longer than the maximum time allowed by its constraints",
        )
    if reason == "terminated":
        return failure("TaskEnded", "The task was terminated")
    if code != 0:
        return failure(
            "FailureExitCode", "The task exited with an exit code representing a failure"
        )
    return None


def run_task(sched: Host, job_id: str, task: Doc, where: Placement) -> None:
    try:
        _run_task(sched, job_id, task, where)
    except Exception as exc:  # a bug must not leave the task running forever
        log.exception("task %s/%s failed in the emulator", job_id, task["id"])
        sched.task_ended(
            job_id, task["id"], where, None, failure("InternalError", str(exc), "servererror"), None
        )


def _run_task(sched: Host, job_id: str, task: Doc, where: Placement) -> None:
    folder = task_dir(where.root, job_id, task["id"])
    wd = folder / "wd"
    key = ("task", job_id, task["id"])
    env = environment(
        root=where.root,
        task_folder=folder,
        account=sched.state.account,
        account_url=sched.state.base_url,
        pool_id=where.pool_id,
        node_id=where.node_id,
        task_id=task["id"],
        job_id=job_id,
        settings=sched.job_environment(job_id) + list(task.get("environmentSettings") or []),
    )
    code: int | None = None
    fail: Doc | None = None
    reason: str | None = None
    try:
        launcher = _launcher(sched, task, where, folder, env, f"{job_id}/{task['id']}", True)
        fetch_resource_files(list(task.get("resourceFiles") or []), wd, folder)
    except ContainerFailure as err:
        fail = _container_failure(err)
    except TransferError as err:
        if sched.stopping:  # Azurite stops with the emulator: the restart requeues the task
            sched.task_ended(job_id, task["id"], where, None, None, "shutdown")
            return
        fail = failure(err.code, err.message)
    if fail is None:
        limit = parse_duration(task["constraints"].get("maxWallClockTime"))
        try:
            code, timed_out, reason = _attempts(
                sched,
                key,
                launcher,
                limit,
                _retries(task["constraints"]),
                lambda n: sched.record_retry(job_id, task["id"], n),
            )
        except ContainerFailure as err:
            fail = _container_failure(err)
        else:
            fail = _attempt_failure(code, timed_out, reason)
    if reason not in NOT_COMPLETED:
        try:
            upload_output_files(list(task.get("outputFiles") or []), wd, folder, fail is None)
        except TransferError as err:
            if sched.stopping:
                reason = "shutdown"
            else:
                fail = fail or failure(err.code, err.message)
    sched.task_ended(job_id, task["id"], where, code, fail, reason)


def run_start_task(sched: Host, start_task: Doc, where: Placement) -> None:
    try:
        _run_start_task(sched, start_task, where)
    except Exception as exc:  # a bug must not leave the node waiting forever
        log.exception("start task on %s failed in the emulator", where.node_id)
        sched.start_task_ended(where, None, failure("InternalError", str(exc), "servererror"), None)


def _run_start_task(sched: Host, start_task: Doc, where: Placement) -> None:
    folder = start_task_dir(where.root)
    wd = folder / "wd"
    env = environment(
        root=where.root,
        task_folder=folder,
        account=sched.state.account,
        account_url=sched.state.base_url,
        pool_id=where.pool_id,
        node_id=where.node_id,
        task_id=None,
        job_id=None,
        settings=list(start_task.get("environmentSettings") or []),
    )
    code: int | None = None
    fail: Doc | None = None
    reason: str | None = None
    try:
        # A start task runs on the node itself unless it names a container (Batch's docs).
        label = f"{where.pool_id}/{where.node_id}/startup"
        launcher = _launcher(sched, start_task, where, folder, env, label, False)
        fetch_resource_files(list(start_task.get("resourceFiles") or []), wd, folder)
    except ContainerFailure as err:
        fail = _container_failure(err)
    except TransferError as err:
        if sched.stopping:
            sched.start_task_ended(where, None, None, "shutdown")
            return
        fail = failure(err.code, err.message)
    if fail is None:
        try:
            code, _, reason = _attempts(
                sched,
                ("start", where.pool_id, where.node_id),
                launcher,
                None,
                _retries(start_task),
                lambda n: sched.record_start_retry(where, n),
            )
        except ContainerFailure as err:
            fail = _container_failure(err)
        if fail is None and code != 0 and reason is None:
            fail = failure(
                "FailureExitCode", "The task exited with an exit code representing a failure"
            )
    sched.start_task_ended(where, code, fail, reason)
