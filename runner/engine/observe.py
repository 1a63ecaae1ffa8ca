"""Reading live state for a plan: a constant number of paged lists, then a ``get`` only for
the groups whose instance view decides the plan: unchanged groups of the workspace that
may have finished or been stopped (started again), unless their list item shows every
container running. Changed, foreign and absent groups never need one."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from runner.backends.aci import container_groups
from runner.backends.resources import resource_groups
from runner.backends.target import Target
from runner.engine.events import Emit
from runner.engine.retry import Clock, call_with_retry
from runner.plan.aci import canonical_group, changed_paths
from runner.plan.canonical import FingerprintKey
from runner.plan.model import Address
from runner.plan.observed import (
    ObservedContainerGroup,
    ObservedResourceGroup,
    ObservedState,
    group_address,
    rg_address,
)
from runner.spec.models import ContainerGroup

GET_WORKERS = 16


def subscriptions_of(specs: Sequence[ContainerGroup], target: Target) -> dict[Address, str]:
    return {
        group_address(s.resource_group, s.name): target.subscription_for(s.subscription)
        for s in specs
    }


def read_state(
    target: Target,
    specs: Sequence[ContainerGroup],
    *,
    workspace: str,
    emit: Emit,
    clock: Clock | None = None,
    instance_views: str = "needed",  # "needed", "specs" (refresh) or "all"
    key: FingerprintKey | None = None,
) -> ObservedState:
    """``key``: the plan's fingerprint key; without it a group with secure values reads
    as changed, and its instance view is not needed."""
    clock = clock or Clock()
    subs = set(subscriptions_of(specs, target).values())
    if target.default_subscription:
        subs.add(target.default_subscription)
    found_rgs: dict[Address, ObservedResourceGroup] = {}
    groups: dict[Address, ObservedContainerGroup] = {}
    for sub in sorted(subs):
        rgs, aci = resource_groups(target, sub), container_groups(target, sub)
        for rg in _retry(rgs.read_all, clock, emit):
            found_rgs[rg_address(rg.name)] = rg
        for g in _retry(aci.read_all, clock, emit):
            groups[group_address(g.resource_group, g.name)] = g
    state = ObservedState(resource_groups=found_rgs, container_groups=groups)
    wanted = (
        _needing_view(specs, state, workspace, refresh=instance_views == "specs", key=key)
        if instance_views in ("needed", "specs")
        else [g for g in groups.values() if g.ownership.owned_by(workspace)]
    )
    if not wanted:
        return state
    fresh = read_groups(target, wanted, emit=emit, clock=clock)
    for g in fresh:
        groups[group_address(g.resource_group, g.name)] = g
    return ObservedState(resource_groups=found_rgs, container_groups=groups)


def read_groups(
    target: Target,
    groups: Sequence[ObservedContainerGroup],
    *,
    emit: Emit,
    clock: Clock,
) -> list[ObservedContainerGroup]:
    """``get`` each group (instance view included), several at once; gone ones dropped."""

    def one(g: ObservedContainerGroup) -> ObservedContainerGroup | None:
        aci = container_groups(target, g.subscription or target.subscription_for(None))
        return _retry(lambda: aci.read(g.resource_group, g.name), clock, emit)

    with ThreadPoolExecutor(max_workers=min(GET_WORKERS, len(groups)) or 1) as pool:
        return [g for g in pool.map(one, groups) if g is not None]


def _needing_view(
    specs: Sequence[ContainerGroup],
    state: ObservedState,
    workspace: str,
    *,
    refresh: bool,
    key: FingerprintKey | None,
) -> list[ObservedContainerGroup]:
    out = []
    for spec in specs:
        g = state.container_group(spec.resource_group, spec.name)
        if g is None or g.instance_state is not None or not g.ownership.owned_by(workspace):
            continue
        # Only an unchanged group that may have stopped or finished can be a "start". A
        # run-to-completion group's state decides whether a new run starts, so it is read.
        # A restart-Always group is read only when its list item shows a container that is
        # not running, or on --refresh: Azure's list answers carry no instance view
        # (recorded SDK traffic; azure-rest-api-specs issue 21280), and reading every group
        # would make a no-op plan cost one request per group instead of one paged list.
        may_start = spec.runs_to_completion or refresh or _shows_not_running(g)
        if may_start and not changed_paths(canonical_group(spec, key), g.definition):
            out.append(g)
    return out


def _shows_not_running(g: ObservedContainerGroup) -> bool:
    return any(c.state is not None and c.state != "Running" for c in g.containers)


def _retry(fn: Any, clock: Clock, emit: Emit) -> Any:
    return call_with_retry(fn, address="live state", what="read", emit=emit, clock=clock)
