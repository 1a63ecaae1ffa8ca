"""When and where each task of a Batch job ran: one paged task list with a ``$select``
of the fields a run's timeline needs (state, ``executionInfo``, ``nodeInfo``), never the
command lines or environment settings.

Read once a run's wait is over (``runner/engine/run_record.py``), so the wait's own
polling is unchanged. Batch keeps one ``startTime`` per task, the last attempt's:
``retryCount`` and ``requeueCount`` say how many came before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from azure.batch import models as bm
from azure.core.exceptions import ResourceNotFoundError

from runner.backends.batch_metadata import parse_items
from runner.backends.errors import translate
from runner.plan.ownership import Ownership

if TYPE_CHECKING:
    from azure.batch import BatchClient

TIMELINE_SELECT = ["id", "state", "creationTime", "executionInfo", "nodeInfo"]


@dataclass(frozen=True)
class TaskRun:
    id: str
    state: str  # active, preparing, running, completed
    created: datetime | None = None
    started: datetime | None = None  # the last attempt's start
    ended: datetime | None = None
    node: str | None = None
    pool: str | None = None
    exit_code: int | None = None
    result: str | None = None  # success, failure
    retries: int = 0
    requeues: int = 0
    failure: str | None = None  # "Code: message" of Batch's failureInfo


def _text(value: Any) -> str | None:
    text = str(getattr(value, "value", value) or "").lower()
    return text or None


def task_run(task: bm.BatchTask) -> TaskRun:
    info = task.execution_info
    node = task.node_info
    failure = info.failure_info if info else None
    return TaskRun(
        id=task.id or "",
        state=_text(task.state) or "",
        created=task.creation_time,
        started=info.start_time if info else None,
        ended=info.end_time if info else None,
        node=node.node_id if node else None,
        pool=node.pool_id if node else None,
        exit_code=info.exit_code if info else None,
        result=_text(info.result) if info else None,
        retries=(info.retry_count or 0) if info else 0,
        requeues=(info.requeue_count or 0) if info else 0,
        failure=": ".join(p for p in (failure.code, failure.message) if p) or "failed"
        if failure
        else None,
    )


def task_run_from_payload(payload: dict[str, Any]) -> TaskRun:
    """A task as the REST API returns it (one item of a task list), as a ``TaskRun``."""
    return task_run(bm.BatchTask(payload))


def read_task_runs(client: BatchClient, job_id: str) -> list[TaskRun] | None:
    """Every task of the job, in the order Batch lists them; None when the job is gone."""
    try:
        tasks = list(client.list_tasks(job_id, select=TIMELINE_SELECT))
    except ResourceNotFoundError:
        return None
    except Exception as exc:
        raise translate(exc) from exc
    return [task_run(t) for t in tasks]


def job_owner(client: BatchClient, job_id: str) -> Ownership | None:
    """Who made the job (its metadata), None when it is not there."""
    try:
        job = client.get_job(job_id, select=["id", "metadata"])
    except ResourceNotFoundError:
        return None
    except Exception as exc:
        raise translate(exc) from exc
    return parse_items(job.metadata)
