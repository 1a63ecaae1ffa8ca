"""Reading what is there: ``status`` rows and container ``logs``."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from runner.backends.aci import ContainerGroups, container_groups
from runner.backends.target import Target
from runner.engine.observe import read_groups, read_state
from runner.engine.result import StatusRow
from runner.engine.retry import Clock, call_with_retry
from runner.errors import PermanentError, RunnerError
from runner.plan.observed import ObservedContainerGroup, group_address
from runner.plan.provenance import stamp_detail
from runner.spec.loaded import with_steps
from runner.spec.models import BatchJob, ContainerGroup, Workflow

if TYPE_CHECKING:
    from runner.spec.loader import LoadedSpec


def _nothing(_event: Any) -> None:
    return None


def _groups(specs: Sequence[LoadedSpec] | None) -> list[ContainerGroup]:
    return [s.spec for s in specs or () if isinstance(s.spec, ContainerGroup)]


def _batch_status(loaded: LoadedSpec, target: Target, workspace: str) -> list[StatusRow]:
    try:
        from runner.engine.batch import batch_status
    except ImportError as exc:
        raise RunnerError(f"BatchJob is not supported yet ({exc})") from exc
    return list(batch_status(loaded, target, workspace=workspace))


def status(specs: list[LoadedSpec] | None, target: Target, *, workspace: str) -> list[StatusRow]:
    rows: list[StatusRow] = []
    workflows = [s for s in specs or () if isinstance(s.spec, Workflow)]
    if specs is not None:
        specs = with_steps(specs)
    groups = _groups(specs)
    clock = Clock()
    if specs is None:
        observed = read_state(target, [], workspace=workspace, emit=_nothing, instance_views="all")
        owned = [
            g
            for _, g in sorted(observed.container_groups.items())
            if g.ownership.owned_by(workspace)
        ]
        rows += [_row(g) for g in owned]
        from runner.engine.batch import workspace_status

        rows += workspace_status(target, workspace=workspace)
    elif groups:
        stubs = [
            ObservedContainerGroup(
                name=g.name,
                resource_group=g.resource_group,
                subscription=target.subscription_for(g.subscription),
            )
            for g in groups
        ]
        found = {
            group_address(g.resource_group, g.name).folded(): g
            for g in read_groups(target, stubs, emit=_nothing, clock=clock)
        }
        for g in groups:
            address = group_address(g.resource_group, g.name)
            seen = found.get(address.folded())
            absent = StatusRow(str(address), "ContainerGroup", "absent")
            rows.append(_row(seen) if seen else absent)
    for loaded in specs or ():
        if isinstance(loaded.spec, BatchJob):
            rows += _batch_status(loaded, target, workspace)
    if workflows:
        from runner.engine.workflow import container_rows

        rows += [r for w in workflows for r in container_rows(w, target, workspace)]
    return rows


def _row(g: ObservedContainerGroup) -> StatusRow:
    detail: dict[str, Any] = {
        "ip": g.ip,
        "fqdn": g.fqdn,
        "restarts": {c.name: c.restart_count for c in g.containers if c.restart_count},
        "exit_codes": {c.name: c.exit_code for c in g.containers if c.exit_code is not None},
        "provisioning": g.provisioning_state,
        **stamp_detail(g.ownership, datetime.now(UTC)),
    }
    state = g.instance_state or g.provisioning_state or "unknown"
    address = str(group_address(g.resource_group, g.name))
    return StatusRow(address, "ContainerGroup", state, detail)


def _explain_silence(groups: ContainerGroups, spec: ContainerGroup, names: list[str]) -> None:
    """No log line at all: when a container could not start, say why (one more read,
    made only then) rather than print nothing."""
    address = group_address(spec.resource_group, spec.name)
    warnings = groups.warnings(spec.resource_group, spec.name)
    if warnings is None:
        raise RunnerError(f"{address} does not exist: apply its spec first")
    why = [f"{name}: {warnings[name][-1]}" for name in names if name in warnings]
    if why:
        raise RunnerError(f"{address} has no logs; " + "; ".join(why))


def logs(
    spec: ContainerGroup,
    target: Target,
    *,
    container: str | None = None,
    follow: bool = False,
    interval: float = 1.0,
) -> Iterator[str]:
    """Each container's log lines (prefixed with ``[name]`` when there are several); with
    ``follow``, new lines as they come until the group finishes."""
    names = [container] if container else [c.name for c in spec.containers]
    if container and container not in {c.name for c in spec.containers}:
        raise RunnerError(f"{spec.name} has no container {container!r}")
    groups = container_groups(target, target.subscription_for(spec.subscription))
    address = str(group_address(spec.resource_group, spec.name))
    seen = dict.fromkeys(names, 0)
    clock = Clock()
    while True:
        for name in names:
            read = functools.partial(groups.logs, spec.resource_group, spec.name, name)
            try:
                text: str = call_with_retry(
                    read, address=address, what="logs", emit=_nothing, clock=clock
                )
            except PermanentError as exc:
                if exc.code in ("ResourceNotFound", "ResourceGroupNotFound"):
                    raise RunnerError(f"{address} does not exist: apply its spec first") from exc
                raise
            lines = text.splitlines()
            for line in lines[seen[name] :]:
                yield f"[{name}] {line}" if len(names) > 1 else line
            seen[name] = max(seen[name], len(lines))
        if not follow:
            if not any(seen.values()):
                _explain_silence(groups, spec, names)
            return
        g = groups.read(spec.resource_group, spec.name)
        if g is None or (spec.runs_to_completion and g.finished):
            return
        clock.sleep(interval)
