"""Batch tasks: their wire form (inputs as resource files, outputs as output files, both
through SAS URLs, never in the command line) and adding one chunk of up to 100.

A chunk whose body is too large is split in halves until it fits (Batch answers
``RequestBodyTooLarge`` above its request size limit); ``TaskExists`` means an earlier
attempt already added the task, so it counts as present, not as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from azure.batch import models as bm
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from runner.backends.errors import translate
from runner.backends.sas import SasSigner
from runner.plan.batch_desired import STD_FILES_PATTERN, DesiredTask, container_settings
from runner.plan.batch_secrets import SECRETS_FILE

if TYPE_CHECKING:
    from azure.batch import BatchClient

    from runner.spec.models import MergeTask, TaskFactory

CHUNK_SIZE = 100  # Batch's limit of tasks per add-task-collection request
# Batch tasks carry no metadata: the identity of what a task runs on travels as an
# environment setting, which Batch returns with the task.
IDENTITY_SETTING = "RUNNER_TASK_IDENTITY"
GLOB_CHARS = frozenset("*?[")


@dataclass
class ChunkResult:
    added: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)  # server errors: worth another attempt
    failed: dict[str, str] = field(default_factory=dict)  # id -> "Code: message"

    def merge(self, other: ChunkResult) -> None:
        self.added += other.added
        self.existing += other.existing
        self.retry += other.retry
        self.failed.update(other.failed)


def _output(pattern: str, container_url: str, path: str) -> bm.OutputFile:
    return bm.OutputFile(
        file_pattern=pattern,
        destination=bm.OutputFileDestination(
            container=bm.OutputFileBlobContainerDestination(container_url=container_url, path=path)
        ),
        # taskCompletion: a failed task leaves its outputs and std files too.
        upload_options=bm.OutputFileUploadConfiguration(upload_condition="taskCompletion"),
    )


def task_options(
    task: DesiredTask,
    limits: TaskFactory | MergeTask,
    signer: SasSigner,
    out_url: str,
    out_container: str = "",
    done: frozenset[str] = frozenset(),
) -> bm.BatchTaskCreateOptions:
    """The task as Batch takes it; ``out_url`` is the write SAS URL of the output container
    (``out_container``). Output blobs land under ``<task id>/``: an exact file name is the
    blob's name; a pattern with wildcards names a virtual folder. A merge task reads the
    blobs its dependencies wrote there, each through a read SAS URL of its own."""
    outputs = [
        _output(o, out_url, task.id if GLOB_CHARS & set(o) else f"{task.id}/{o}")
        for o in (*task.outputs, *task.handed_on)
    ]
    outputs.append(_output(STD_FILES_PATTERN, out_url, task.id))
    constraints = None
    if limits.max_wall_clock_time is not None or limits.max_retries:
        constraints = bm.BatchTaskConstraints(
            max_wall_clock_time=limits.max_wall_clock_time,
            max_task_retry_count=limits.max_retries,
        )
    if task.input is not None:
        url = signer.read_blob(task.input.container, task.input.blob)
        files = [bm.ResourceFile(http_url=url, file_path=task.input.file_path)]
    else:
        files = [
            bm.ResourceFile(http_url=signer.read_blob(out_container, m.path), file_path=m.path)
            for m in task.merged
        ]
    if task.secrets is not None:
        # Read through a SAS that expires soon after the job's timeout; the wrapped command
        # line deletes the file once no attempt needs it (runner.plan.batch_secrets).
        url = signer.read_blob(task.secrets.container, task.secrets.blob)
        files.append(bm.ResourceFile(http_url=url, file_path=SECRETS_FILE))
    return bm.BatchTaskCreateOptions(
        id=task.id,
        command_line=task.command_line,
        resource_files=files,
        output_files=outputs,
        constraints=constraints,
        environment_settings=[
            bm.EnvironmentSetting(name=IDENTITY_SETTING, value=task.identity),
            *(bm.EnvironmentSetting(name=k, value=v) for k, v in task.environment),
        ],
        depends_on=_dependencies(task, done),
        exit_conditions=_exit_conditions(task),
        container_settings=_container_settings(task),
    )


def _container_settings(task: DesiredTask) -> bm.BatchTaskContainerSettings | None:
    if task.container is None:
        return None
    settings = container_settings(task.container)
    return bm.BatchTaskContainerSettings(
        image_name=settings["imageName"],
        container_run_options=settings.get("containerRunOptions"),
        working_directory=settings["workingDirectory"],
    )


def _dependencies(task: DesiredTask, done: frozenset[str]) -> bm.BatchTaskDependencies | None:
    """``done``: tasks an earlier run did (the results record), not in this job: waiting
    for them would be waiting for ever. Their ids are named one by one then."""
    deps = [d for d in task.depends_on if d not in done]
    if not deps:
        return None
    if len(deps) < len(task.depends_on):
        return bm.BatchTaskDependencies(task_ids=deps)
    ranges = task.depends_on_ranges
    # Ids a range covers travel as the range: taskIds is limited to 64,000 characters.
    covered = {
        t for t in task.depends_on if t.isdigit() and any(a <= int(t) <= b for a, b in ranges)
    }
    return bm.BatchTaskDependencies(
        task_ids=[t for t in task.depends_on if t not in covered] or None,
        task_id_ranges=[bm.BatchTaskIdRange(start=a, end=b) for a, b in ranges] or None,
    )


def _exit_conditions(task: DesiredTask) -> bm.ExitConditions | None:
    """What the task's failure does to the tasks that depend on it; unset, Batch blocks
    them. Exit code 0 satisfies them whatever this says."""
    if task.dependency_action == "block":
        return None
    return bm.ExitConditions(default=bm.ExitOptions(dependency_action=task.dependency_action))


def _code(exc: HttpResponseError) -> str | None:
    error = getattr(exc, "error", None)
    return getattr(error, "code", None)


def _status(value: Any) -> str:
    return str(getattr(value, "value", value) or "").lower()


def add_chunk(
    client: BatchClient, job_id: str, tasks: list[bm.BatchTaskCreateOptions]
) -> ChunkResult:
    """Add up to 100 tasks in one request, splitting it while the body is too large.
    Raises a translated error when the request as a whole failed (no result known)."""
    try:
        response = client.create_task_collection(job_id, bm.BatchTaskGroup(task_values=tasks))
    except HttpResponseError as exc:
        if _code(exc) != "RequestBodyTooLarge":
            raise translate(exc) from exc
        if len(tasks) == 1:
            return ChunkResult(failed={tasks[0].id: "RequestBodyTooLarge: the task is too large"})
        half = len(tasks) // 2
        result = add_chunk(client, job_id, tasks[:half])
        result.merge(add_chunk(client, job_id, tasks[half:]))
        return result
    except Exception as exc:
        raise translate(exc) from exc
    result = ChunkResult()
    for item in response.result_values or ():
        status = _status(item.status)
        code = item.error.code if item.error else None
        if status == "success":
            result.added.append(item.task_id)
        elif code == "TaskExists":
            result.existing.append(item.task_id)
        elif status == "servererror":
            result.retry.append(item.task_id)
        else:
            message = item.error.message.value if item.error and item.error.message else ""
            result.failed[item.task_id] = f"{code}: {message}".strip()
    answered = set(result.added + result.existing + result.retry) | set(result.failed)
    # A task the service did not answer for is unknown: try it again (TaskExists if it was).
    result.retry += [t.id for t in tasks if t.id not in answered]
    return result


def delete_task(client: BatchClient, job_id: str, task_id: str) -> bool:
    """Delete a task (Batch terminates it first when it runs); False when it is absent."""
    try:
        client.delete_task(job_id, task_id)
    except ResourceNotFoundError:
        return False
    except Exception as exc:
        raise translate(exc) from exc
    return True


def task_exists(client: BatchClient, job_id: str, task_id: str) -> bool:
    try:
        client.get_task(job_id, task_id, select=["id"])
    except ResourceNotFoundError:
        return False
    except Exception as exc:
        raise translate(exc) from exc
    return True
