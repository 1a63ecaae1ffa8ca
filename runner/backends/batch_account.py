"""The Batch account of a ``BatchJob``, as the engine uses it: typed reads and actions on
plain values (ids, the desired state, task forms); the SDK client stays in here.

The calls themselves are ``batch.py``'s, ``batch_tasks.py``'s and ``batch_nodes.py``'s,
which tests also use with a client of their own.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from runner.backends import batch as bb
from runner.backends import batch_nodes as bn
from runner.backends import batch_tasks as bt
from runner.backends.sas import SasSigner
from runner.errors import TargetError
from runner.plan.batch import ObservedTask
from runner.plan.batch_desired import DesiredBatch, DesiredTask
from runner.plan.ownership import Ownership

if TYPE_CHECKING:
    from runner.backends.target import Target
    from runner.spec.models import BatchJob, MergeTask, TaskFactory

# A task as Batch takes it (SAS URLs signed in): made once, sent with ``add_tasks``.
TaskForm = Any


class BatchAccount:
    def __init__(self, client: Any) -> None:
        self._client = client

    # --- pools ------------------------------------------------------------------------

    def pool_exists(self, pool_id: str) -> bool:
        """True while the pool is there, being deleted included."""
        return bn.read_allocation(self._client, pool_id) is not None

    def create_pool(self, desired: DesiredBatch, signer: SasSigner, workspace: str) -> None:
        bb.create_pool(self._client, desired, signer, workspace)

    def update_pool(
        self, desired: DesiredBatch, signer: SasSigner, workspace: str, nodes: int | None
    ) -> None:
        bb.update_pool(self._client, desired, signer, workspace, nodes)

    def delete_pool(self, pool_id: str) -> bool:
        return bb.delete_pool(self._client, pool_id)

    def reboot_nodes(self, pool_id: str) -> int:
        return bn.reboot_nodes(self._client, pool_id)

    def read_allocation(self, pool_id: str) -> bn.PoolAllocation | None:
        return bn.read_allocation(self._client, pool_id)

    def read_nodes(self, pool_id: str) -> list[bn.NodeHealth]:
        return bn.read_nodes(self._client, pool_id)

    def start_task_stderr(self, pool_id: str, node_id: str) -> str:
        return bn.start_task_stderr(self._client, pool_id, node_id)

    # --- jobs -------------------------------------------------------------------------

    def job_exists(self, job_id: str) -> bool:
        """True while the job is there, being deleted included."""
        return bb.job_exists(self._client, job_id)

    def create_job(self, desired: DesiredBatch, workspace: str) -> None:
        bb.create_job(self._client, desired, workspace)

    def delete_job(self, job_id: str) -> bool:
        return bb.delete_job(self._client, job_id)

    def terminate_job(self, job_id: str, reason: str) -> bool:
        return bb.terminate_job(self._client, job_id, reason)

    def task_counts(self, job_id: str) -> dict[str, int]:
        return bb.task_counts(self._client, job_id)

    def list_owned(
        self, workspace: str
    ) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
        return bb.list_owned(self._client, workspace)

    def list_managed(
        self,
    ) -> tuple[list[tuple[str, Ownership, str]], list[tuple[str, Ownership, str]]]:
        return bb.list_managed(self._client)

    # --- tasks ------------------------------------------------------------------------

    def read_tasks(self, job_id: str, state: str | None = None) -> dict[str, ObservedTask]:
        return bb.read_tasks(self._client, job_id, state)

    def add_tasks(self, job_id: str, forms: Sequence[TaskForm]) -> bt.ChunkResult:
        """Up to 100 tasks in one request (see ``batch_tasks.add_chunk``)."""
        return bt.add_chunk(self._client, job_id, list(forms))

    def delete_task(self, job_id: str, task_id: str) -> bool:
        return bt.delete_task(self._client, job_id, task_id)

    def task_exists(self, job_id: str, task_id: str) -> bool:
        return bt.task_exists(self._client, job_id, task_id)


def task_forms(
    tasks: Sequence[DesiredTask],
    factory: TaskFactory,
    signer: SasSigner,
    out_url: str,
    *,
    merge: MergeTask | None = None,
    out_container: str = "",
    done: frozenset[str] = frozenset(),
) -> list[TaskForm]:
    """``merge``: the spec's merge task, whose limits its task takes; ``out_container``
    holds what the mapped tasks hand it; ``done``: tasks no task of this job waits for."""
    return [
        bt.task_options(
            t, merge if t.is_merge and merge else factory, signer, out_url, out_container, done
        )
        for t in tasks
    ]


def batch_account(spec: BatchJob, target: Target) -> BatchAccount:
    return BatchAccount(bb.batch_client(spec, target))


def default_batch_account(target: Target) -> BatchAccount | None:
    """The target's default Batch account (``AZURE_BATCH_ACCOUNT``, else the local one);
    None when there is none to reach without a spec naming it."""
    try:
        return BatchAccount(target.batch_client(os.environ.get("AZURE_BATCH_ACCOUNT", "local")))
    except TargetError:
        return None
