"""The plan for a set of container group specs: ``diff`` for apply, ``diff_destroy``.

Pure: desired specs and observed state in, an ordered ``Plan`` out. Ownership is checked
here, so deleting a resource that this workspace did not make cannot be planned.
Order: resource groups before their groups; deletes after everything else, groups before
the resource group that holds them.
"""

from __future__ import annotations

from collections.abc import Sequence

from runner.errors import RunnerError
from runner.plan.aci import diff_group
from runner.plan.action import Action
from runner.plan.canonical import FingerprintKey
from runner.plan.model import Address, Change, Plan
from runner.plan.observed import (
    ObservedContainerGroup,
    ObservedResourceGroup,
    ObservedState,
    group_address,
    rg_address,
)
from runner.spec.models import ContainerGroup


class PlanError(RunnerError):
    """The specs cannot be planned together (the same group named twice)."""


def diff(
    desired: Sequence[ContainerGroup],
    observed: ObservedState,
    *,
    workspace: str,
    prune: bool = False,
    subscriptions: dict[Address, str] | None = None,
    key: FingerprintKey | None = None,
) -> Plan:
    """``subscriptions`` maps a group address to its subscription when it is not the
    target's default (specs may name one); ``key`` fingerprints secure values."""
    _check_unique(desired)
    subs = subscriptions or {}
    rg_changes: list[Change] = []
    seen_rgs: set[str] = set()
    for spec in desired:
        rg = spec.resource_group.lower()
        if rg in seen_rgs:
            continue
        seen_rgs.add(rg)
        found = observed.resource_group(spec.resource_group)
        rg_changes.append(_rg_change(spec, found, subs, workspace))

    group_changes = [
        diff_group(
            spec,
            observed.container_group(spec.resource_group, spec.name),
            workspace=workspace,
            subscription=subs.get(group_address(spec.resource_group, spec.name)),
            key=key,
        )
        for spec in desired
    ]
    wanted = {group_address(s.resource_group, s.name).folded() for s in desired}
    orphans = [
        g
        for address, g in sorted(observed.container_groups.items())
        if address.folded() not in wanted and g.ownership.owned_by(workspace)
    ]
    deletes: list[Change] = []
    if prune:
        deletes = [_delete_group(g, "not in the specs (pruned)") for g in orphans]
        deletes += _rg_deletes(observed, workspace, deletes, keep=seen_rgs)
    return Plan(
        workspace=workspace,
        changes=tuple(rg_changes + group_changes + deletes),
        orphans=tuple(group_address(g.resource_group, g.name) for g in orphans),
    )


def diff_destroy(
    desired: Sequence[ContainerGroup] | None,
    observed: ObservedState,
    *,
    workspace: str,
) -> Plan:
    """Delete what the specs name (or, with no specs, everything this workspace owns)."""
    changes: list[Change] = []
    if desired is None:
        targets = [g for _, g in sorted(observed.container_groups.items())]
        changes = [
            _delete_group(g, "owned by this workspace")
            for g in targets
            if g.ownership.owned_by(workspace)
        ]
        rgs = {
            g.name.lower()
            for g in observed.resource_groups.values()
            if g.ownership.owned_by(workspace)
        }
    else:
        _check_unique(desired)
        for spec in desired:
            g = observed.container_group(spec.resource_group, spec.name)
            address = group_address(spec.resource_group, spec.name)
            if g is None:
                changes.append(Change(address=address, action=Action.NOOP, reason="already absent"))
            elif not g.ownership.owned_by(workspace):
                changes.append(
                    Change(
                        address=address,
                        action=Action.CONFLICT,
                        reason=f"exists and is {g.ownership.describe()}; left untouched",
                    )
                )
            else:
                changes.append(_delete_group(g, "named by the specs"))
        rgs = {s.resource_group.lower() for s in desired}
    deletes = [ch for ch in changes if ch.action is Action.DELETE]
    changes += _rg_deletes(observed, workspace, deletes, only=rgs)
    return Plan(workspace=workspace, changes=tuple(changes))


def _check_unique(desired: Sequence[ContainerGroup]) -> None:
    seen: set[Address] = set()
    for spec in desired:
        address = group_address(spec.resource_group, spec.name)
        if address.folded() in seen:
            raise PlanError(f"{address} is defined by more than one spec")
        seen.add(address.folded())


def _rg_change(
    spec: ContainerGroup,
    observed: ObservedResourceGroup | None,
    subs: dict[Address, str],
    workspace: str,
) -> Change:
    address = rg_address(spec.resource_group)
    subscription = subs.get(group_address(spec.resource_group, spec.name))
    after = {"location": spec.location.replace(" ", "").lower()}
    if observed is None:
        return Change(
            address=address,
            action=Action.CREATE,
            reason="does not exist yet",
            after=after,
            subscription=subscription,
            owned=True,
        )
    before = {"location": observed.location.replace(" ", "").lower()}
    return Change(
        address=address,
        action=Action.NOOP,
        reason="exists",
        before=before,
        after=before,
        subscription=subscription,
        owned=observed.ownership.owned_by(workspace),
    )


def _delete_group(g: ObservedContainerGroup, why: str) -> Change:
    return Change(
        address=group_address(g.resource_group, g.name),
        action=Action.DELETE,
        reason=why,
        subscription=g.subscription or None,
        owned=True,
    )


def _rg_deletes(
    observed: ObservedState,
    workspace: str,
    group_deletes: list[Change],
    *,
    only: set[str] | None = None,
    keep: set[str] | frozenset[str] = frozenset(),
) -> list[Change]:
    """A resource group goes only when this workspace made it and no container group
    would be left in it: deleting a resource group deletes everything inside."""
    deleted = {ch.address.folded() for ch in group_deletes}
    out: list[Change] = []
    for rg in sorted(observed.resource_groups.values(), key=lambda r: r.name.lower()):
        key = rg.name.lower()
        if (only is not None and key not in only) or key in keep:
            continue
        if not rg.ownership.owned_by(workspace):
            continue
        inside = [
            group_address(g.resource_group, g.name)
            for g in observed.container_groups.values()
            if g.resource_group.lower() == key
        ]
        remaining = [a for a in inside if a.folded() not in deleted]
        address = rg_address(rg.name)
        if remaining:
            out.append(
                Change(
                    address=address,
                    action=Action.NOOP,
                    reason=f"kept: still holds {', '.join(map(str, remaining))}",
                    subscription=rg.subscription or None,
                    owned=True,
                )
            )
            continue
        out.append(
            Change(
                address=address,
                action=Action.DELETE,
                reason="made by this workspace and now empty",
                depends_on=tuple(inside),
                subscription=rg.subscription or None,
                owned=True,
            )
        )
    return out
