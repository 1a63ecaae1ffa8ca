"""What ``runner gc`` deletes: runner-made resources whose expiry has passed, in any
workspace.

Pure: the resources found (``Found``) and the time in, a ``Plan`` of deletes out, so
``gc`` without ``--yes`` shows it as ``plan`` shows an apply. Ownership is checked here,
as ``diff`` checks it: a resource without runner's ``managed-by`` tag, one without an
expiry and one not yet expired are never planned for deletion. A resource group goes only
when everything ARM lists in it is an expired container group deleted by the same plan:
deleting a group deletes all it holds, made by runner or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from runner.plan.action import Action
from runner.plan.model import Address, Change, Plan
from runner.plan.ownership import Ownership
from runner.plan.provenance import commit_text, time_left

# Deleted before the kinds that may hold or run them: jobs before their pools, container
# groups before their resource group.
_FIRST = ("ContainerGroup", "BatchJob")


@dataclass(frozen=True)
class Found:
    """One resource as listed: its address, tags and state, and for a resource group the
    ids of every resource ARM lists in it (read only for expired groups)."""

    address: Address
    ownership: Ownership
    subscription: str | None = None
    state: str = ""
    resource_id: str = ""
    holds: tuple[str, ...] = ()


def expired(found: Sequence[Found], now: datetime) -> list[Found]:
    """Runner-made, expired and not already being deleted."""
    return [f for f in found if f.ownership.expired(now) and f.state.lower() not in ("deleting",)]


def why(f: Found, now: datetime) -> str:
    o = f.ownership
    made = f"made in workspace {o.workspace or '?'}"
    if o.source or o.commit:
        made += f" from {o.source or 'a spec'} at {commit_text(o.commit, o.dirty)}"
    return f"{time_left(o.expires, now)}, {made}"


def gc_plan(found: Sequence[Found], now: datetime) -> Plan:
    due = expired(found, now)
    deleted_groups = {
        f.resource_id.lower(): f.address
        for f in due
        if f.address.kind == "ContainerGroup" and f.resource_id
    }
    firsts = [f for f in due if f.address.resource_kind in _FIRST]
    changes = [_delete(f, now) for f in firsts]
    jobs = tuple(f.address for f in firsts if f.address.resource_kind == "BatchJob")
    for f in due:
        kind = f.address.resource_kind
        if kind in _FIRST:
            continue
        if kind == "ResourceGroup":
            changes.append(_resource_group(f, now, deleted_groups))
        elif kind == "BatchPool":
            # A pool goes after the expired jobs, which may run on it.
            changes.append(_delete(f, now, depends_on=jobs))
        else:
            changes.append(_delete(f, now))
    return Plan(workspace="", changes=tuple(changes))


def _delete(f: Found, now: datetime, depends_on: tuple[Address, ...] = ()) -> Change:
    return Change(
        address=f.address,
        action=Action.DELETE,
        reason=why(f, now),
        subscription=f.subscription,
        depends_on=depends_on,
        owned=True,
    )


def _resource_group(f: Found, now: datetime, deleted: dict[str, Address]) -> Change:
    kept = [r for r in f.holds if r.lower() not in deleted]
    if kept:
        names = ", ".join(r.rsplit("/", 1)[-1] for r in kept)
        return Change(
            address=f.address,
            action=Action.NOOP,
            reason=f"{why(f, now)}; kept: still holds {names}",
            subscription=f.subscription,
            owned=True,
        )
    inside = tuple(deleted[r.lower()] for r in f.holds)
    return _delete(f, now, depends_on=inside)
