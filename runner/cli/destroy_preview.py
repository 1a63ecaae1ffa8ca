"""What ``runner destroy`` is about to remove, shown before it asks.

Container groups get the same destroy plan the engine runs (``diff_destroy`` over live
state), so a group this workspace did not make shows as a conflict, not as a delete.
Batch specs are listed from their status rows: pool, job and containers that exist
(with no spec, the Batch resources this workspace made).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runner.plan.model import Plan
    from runner.spec.loader import LoadedSpec

ABSENT_STATES = frozenset({"absent", "missing", "notfound", "not found", "deleting"})


@dataclass
class DestroyPreview:
    plan: Plan
    batch_rows: list[Any] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.plan.has_changes and not self.batch_rows


def preview(specs: list[LoadedSpec] | None, target: Any, workspace: str) -> DestroyPreview:
    from runner.engine import api
    from runner.engine.observe import read_state
    from runner.plan.diff import diff_destroy
    from runner.plan.model import Plan
    from runner.spec.models import BatchJob, ContainerGroup, Workflow

    workflows = [s for s in specs or () if isinstance(s.spec, Workflow)]
    if specs is not None:
        from runner.spec.loaded import with_steps

        specs = with_steps(specs)
    groups = [s.spec for s in specs or () if isinstance(s.spec, ContainerGroup)]
    plan = Plan(workspace=workspace)
    if specs is None or groups:
        observed = read_state(target, groups, workspace=workspace, emit=lambda _event: None)
        plan = diff_destroy(groups if specs is not None else None, observed, workspace=workspace)
    batches = [s for s in specs or () if isinstance(s.spec, BatchJob)]
    rows = api.status(batches, target, workspace=workspace) if batches else []
    if specs is None:
        from runner.engine.batch import workspace_status

        rows = workspace_status(target, workspace=workspace)
    if workflows:
        from runner.engine.workflow import container_rows

        rows += [r for w in workflows for r in container_rows(w, target, workspace)]
    present = [r for r in rows if r.state.lower() not in ABSENT_STATES]
    return DestroyPreview(plan=plan, batch_rows=present)
