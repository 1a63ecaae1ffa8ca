"""``runner gc``: find the runner-made resources whose expiry has passed, in every
workspace, and delete them.

Where it looks: the target's subscription (container groups and resource groups), and
the target's default Batch and storage accounts (``AZURE_BATCH_ACCOUNT``,
``AZURE_STORAGE_ACCOUNT``, else the local ones): pools, jobs and blob containers. What it
may delete is decided by ``plan.gc`` from the tags and metadata alone; this module reads
and acts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from runner.backends.aci import container_groups
from runner.backends.batch_account import BatchAccount, default_batch_account
from runner.backends.blob_store import BlobStore, default_blob_store
from runner.backends.resources import resource_groups
from runner.backends.target import Target
from runner.engine.aci import AciApply
from runner.engine.events import Emit, RunSummary
from runner.engine.executor import StepOutcome, fold, run_changes
from runner.engine.result import RunResult
from runner.engine.retry import Clock, call_with_retry
from runner.plan.gc import Found, expired, gc_plan
from runner.plan.model import Address, Change, Plan

AT = "gc"
TIMEOUT = 900.0


@dataclass
class Survey:
    """What ``gc`` found, and where it looked."""

    found: list[Found] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def plan(self) -> Plan:
        return gc_plan(self.found, self.now)


def _read(fn: Callable[[], Any], emit: Emit) -> Any:
    return call_with_retry(fn, address=AT, what="read", emit=emit)


def _group_id(subscription: str, rg: str, name: str) -> str:
    return (
        f"/subscriptions/{subscription}/resourceGroups/{rg}"
        f"/providers/Microsoft.ContainerInstance/containerGroups/{name}"
    )


def survey(target: Target, emit: Emit, now: datetime | None = None) -> Survey:
    """Every runner-made resource the target reaches, with its tags (one listing per kind
    and place, plus the contents of each expired resource group)."""
    out = Survey(now=now or datetime.now(UTC))
    sub = target.subscription_for(None)
    groups = container_groups(target, sub)
    rgs = resource_groups(target, sub)
    for g in _read(groups.read_all, emit):
        if g.ownership.managed:
            gsub = g.subscription or sub
            out.found.append(
                Found(
                    address=Address.container_group(g.resource_group, g.name),
                    ownership=g.ownership,
                    subscription=g.subscription or None,
                    state=g.provisioning_state or "",
                    resource_id=_group_id(gsub, g.resource_group, g.name),
                )
            )
    for rg in _read(rgs.read_all, emit):
        if not rg.ownership.managed:
            continue
        holds: tuple[str, ...] = ()
        if rg.ownership.expired(out.now):
            holds = tuple(_read(partial(rgs.resources_in, rg.name), emit))
        out.found.append(
            Found(
                address=Address.resource_group(rg.name),
                ownership=rg.ownership,
                subscription=rg.subscription or None,
                state=rg.provisioning_state or "",
                holds=holds,
            )
        )
    out.places.append(f"subscription {sub}")
    account = default_batch_account(target)
    if account is not None:
        pools, jobs = _read(account.list_managed, emit)
        for piece, items in (("pool", pools), ("job", jobs)):
            out.found += [
                Found(address=Address.batch(o.spec or "?", piece, i), ownership=o, state=state)
                for i, o, state in items
            ]
        out.places.append("the Batch account")
    store = default_blob_store(target)
    if store is not None:
        out.found += [
            Found(address=Address.batch(o.spec or "?", "container", name), ownership=o)
            for name, o in _read(store.list_managed_containers, emit)
        ]
        out.places.append("the storage account")
    return out


@dataclass
class _Deleter:
    """Deletes one change of a gc plan: ARM resources through the ACI handler (which waits
    for each delete to finish), Batch and blob pieces by their accounts."""

    aci: AciApply
    account: BatchAccount | None
    store: BlobStore | None
    emit: Emit

    def __call__(self, change: Change) -> StepOutcome:
        kind = change.kind
        if kind in ("ContainerGroup", "ResourceGroup"):
            return self.aci(change)
        leaf = change.address.leaf
        delete: Callable[[], bool]
        if kind == "BatchJob" and self.account is not None:
            delete = partial(self.account.delete_job, leaf)
        elif kind == "BatchPool" and self.account is not None:
            delete = partial(self.account.delete_pool, leaf)
        elif kind == "BlobContainer" and self.store is not None:
            delete = partial(self.store.delete_container, leaf)
        else:
            return StepOutcome(ok=False, status="failed", message=f"cannot delete a {kind}")
        at = str(change.address)
        existed = call_with_retry(delete, address=at, what="delete", emit=self.emit)
        if existed is False:
            return StepOutcome(message="already gone")
        return StepOutcome(message="deleted", removed=[at], counts={"deleted": 1})


def collect_garbage(
    plan: Plan, target: Target, emit: Emit, *, cancel: threading.Event | None = None
) -> RunResult:
    """Run the deletes of a ``gc`` plan, in its order."""
    cancel = cancel or threading.Event()
    clock = Clock(cancel=cancel)
    aci = AciApply(
        target=target,
        specs={},
        workspace="",
        emit=emit,
        clock=clock,
        deadline=clock.now() + TIMEOUT,
    )
    kinds = {c.kind for c in plan.changes}
    account = default_batch_account(target) if {"BatchJob", "BatchPool"} & kinds else None
    store = default_blob_store(target) if "BlobContainer" in kinds else None
    deleter = _Deleter(aci=aci, account=account, store=store, emit=emit)
    outcomes = run_changes(list(plan.changes), deleter, emit=emit, cancel=cancel)
    result = fold(outcomes)
    result.counts = {"deleted": result.counts.get("deleted", 0)}
    emit(RunSummary(address=AT, counts=result.counts, ok=result.ok))
    return result


__all__ = ["Survey", "collect_garbage", "expired", "survey"]
