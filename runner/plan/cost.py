"""The cost of a plan, from its changes, its specs and a price table: pure, no I/O.

ACI bills a container group by the second for the vCPUs and memory it asks for (and, on
Windows, a software charge per vCPU); Batch bills nothing itself, only each node as a VM
of its size, at the VM's price or, for low-priority nodes, its Low Priority price
(https://azure.microsoft.com/pricing/details/container-instances/,
https://azure.microsoft.com/pricing/details/batch/). A line is priced up to the spec's
``cost.expectedDuration``, else its timeout; an always-running group has no end and is
priced by the hour and the day. A size or region the table lacks leaves the line without
a price and says so: nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

from runner.plan import autoscale
from runner.plan.action import Action
from runner.plan.cost_lines import (
    Basis,
    CapCheck,
    CostEstimate,
    CostIncurred,
    CostLine,
    IncurredLine,
    money,
)
from runner.plan.model import Address, Plan
from runner.plan.price_table import (
    ACI_MEMORY,
    ACI_SERVICE,
    ACI_VCPU,
    ACI_WINDOWS,
    VM_SERVICE,
    PriceTable,
)
from runner.spec.batch_job import Pool
from runner.spec.models import BatchJob, ContainerGroup

# What makes a container group run (again): a new or replaced group, a start, and for a
# run-to-completion group an update (ACI restarts its containers).
_RUNS = frozenset({Action.CREATE, Action.REPLACE, Action.START})
_BATCH_HOST = re.compile(r"^https://[^./]+\.([a-z0-9]+)\.batch\.azure\.com", re.I)

Spec = ContainerGroup | BatchJob


def batch_region(spec: BatchJob) -> str | None:
    """The Batch account's region: the spec's ``batch.location``, else read from its url."""
    if spec.batch.location:
        return spec.batch.location.replace(" ", "").lower()
    match = _BATCH_HOST.match(spec.batch.url or "")
    return match.group(1).lower() if match else None


def estimate(
    plan: Plan,
    specs: Sequence[Spec],
    table: PriceTable,
    *,
    run_timeout: timedelta,
    note: str = "",
) -> CostEstimate:
    """``run_timeout``: how long apply waits for a run-to-completion container group
    (the engine's limit; the ContainerGroup kind has no timeout of its own)."""
    actions = {c.address.folded(): c.action for c in plan.changes}
    lines: list[CostLine] = []
    for spec in specs:
        if isinstance(spec, ContainerGroup):
            line = _group_line(spec, actions, table, run_timeout)
            lines += [line] if line is not None else []
        else:
            lines += _batch_lines(spec, plan, table)
    return _summed(lines, specs, table, note)


def _group_line(
    spec: ContainerGroup,
    actions: dict[Address, Action],
    table: PriceTable,
    run_timeout: timedelta,
) -> CostLine | None:
    address = Address.container_group(spec.resource_group, spec.name)
    action = actions.get(address.folded())
    runs = _RUNS | ({Action.UPDATE} if spec.runs_to_completion else set())
    if action not in runs:
        return None
    region = spec.location.replace(" ", "").lower()
    cpu = sum(c.cpu for c in spec.containers)
    memory = sum(c.memory_in_gb for c in spec.containers)
    what = f"{cpu:g} vCPU, {memory:g} GB, {spec.os_type}, {region}"
    basis, hours = _duration(spec, spec.runs_to_completion, run_timeout)
    meters = [(ACI_VCPU, cpu), (ACI_MEMORY, memory)]
    if spec.os_type == "Windows":
        meters.append((ACI_WINDOWS, cpu))
    hourly, missing = 0.0, ""
    if region not in table.regions(ACI_SERVICE):
        missing = f"{table.source.name} has no {ACI_SERVICE} prices for region {region!r}"
    for meter, quantity in meters:
        rate = table.aci_hourly(region, meter)
        if rate is None:
            missing = missing or f"{table.source.name} has no price for {meter} in {region}"
            continue
        hourly += rate * quantity
    price = None if missing else hourly
    return _line(str(address), str(address), what, basis, hours, price, missing)


def _batch_lines(spec: BatchJob, plan: Plan, table: PriceTable) -> list[CostLine]:
    root = Address.batch(spec.name)
    mine = [c for c in plan.changes if c.address.root == root]
    if not any(c.action.changes_anything for c in mine):
        return []  # every task is done and nothing is made: the run starts no node
    pool = spec.pool
    address = str(Address.batch(spec.name, "pool", pool.id))
    region = batch_region(spec)
    os_name = "Windows" if _windows(pool) else "Linux"
    counts, sized, missing = _node_counts(pool)
    where = f"{region or 'region unknown'}, {os_name}"
    basis, hours = _duration(spec, True, spec.timeout)
    hourly, missing = _hourly(table, region, pool, counts, missing)
    lines = [_line(address, str(root), f"{sized}, {where}", basis, hours, hourly, missing)]
    if spec.teardown.pool == "never":
        kept = f"{sized}, {where}; kept after the run (teardown.pool: never)"
        bounds = autoscale.bounds(pool)
        if bounds is not None:
            # Idle once the run is over: the formula keeps it at its fewest nodes.
            spot = bool(pool.auto_scale and pool.auto_scale.low_priority)
            low = bounds[0]
            counts = ((0 if spot else low, False), (low if spot else 0, True))
            kept = f"{sized}, {where}; kept after the run (teardown.pool: never), idle at {low}"
            hourly, missing = _hourly(table, region, pool, counts, missing)
        lines.append(_line(f"{address} (kept)", str(root), kept, "always", None, hourly, missing))
    return lines


def _windows(pool: Pool) -> bool:
    return pool.node_agent_sku.lower().startswith("batch.node.windows")


def _hourly(
    table: PriceTable,
    region: str | None,
    pool: Pool,
    counts: tuple[tuple[int, bool], ...],
    missing: str,
) -> tuple[float | None, str]:
    """The price of ``counts`` (count, low-priority) nodes of the pool an hour, or None
    and why there is none."""
    if missing:
        return None, missing
    if region is None:
        return None, "the Batch account's region is unknown: set batch.location"
    if region not in table.regions(VM_SERVICE):
        return None, f"{table.source.name} has no {VM_SERVICE} prices for region {region!r}"
    hourly = 0.0
    windows = _windows(pool)
    for count, low in counts:
        if not count:
            continue
        rate = table.vm_hourly(region, pool.vm_size, windows=windows, low_priority=low)
        if rate is None:
            kind = "low-priority " if low else ""
            os_name = "Windows" if windows else "Linux"
            return None, (
                f"{table.source.name} has no {kind}{os_name} price for {pool.vm_size} in {region}"
            )
        hourly += rate * count
    return hourly, ""


def _node_counts(pool: Pool) -> tuple[tuple[tuple[int, bool], ...], str, str]:
    """The (count, low-priority) of the nodes a pool is priced at, what the line says of
    them, and why it has no price. An autoscaled pool is priced at its most nodes: what
    it costs if its formula asks for them all the run long; the spec's own formula has no
    bound runner knows of."""
    if pool.auto_scale is None:
        counts = ((pool.nodes, False), (pool.low_priority_nodes, True))
        sized = f"{pool.nodes} x {pool.vm_size} dedicated, {pool.low_priority_nodes} low-priority"
        return counts, sized, ""
    bounds = autoscale.bounds(pool)
    if bounds is None:
        why = (
            "pool.autoScale.formula sets the node count only as Batch evaluates it: give "
            "autoScale min and max for an estimate"
        )
        return (), f"{pool.vm_size}, autoscaled by its formula", why
    low, high = bounds
    spot = pool.auto_scale.low_priority
    kind = "low-priority" if spot else "dedicated"
    counts = ((0 if spot else high, False), (high if spot else 0, True))
    return counts, f"{high} x {pool.vm_size} {kind} (autoscaled {low}-{high}, priced at {high})", ""


def _duration(spec: Spec, ends: bool, timeout: timedelta) -> tuple[Basis, float | None]:
    if spec.cost.expected_duration is not None:
        return "expectedDuration", spec.cost.expected_duration.total_seconds() / 3600
    if ends:
        return "timeout", timeout.total_seconds() / 3600
    return "always", None


def _line(
    address: str,
    spec: str,
    what: str,
    basis: Basis,
    hours: float | None,
    hourly: float | None,
    missing: str,
) -> CostLine:
    total = per_day = None
    if hourly is not None:
        total = money(hourly * hours) if hours is not None else None
        per_day = money(hourly * 24) if hours is None else None
    return CostLine(
        address=address,
        spec=spec,
        what=what,
        basis=basis,
        hours=hours,
        hourly=None if hourly is None else money(hourly),
        total=total,
        per_day=per_day,
        missing=missing,
    )


def spec_address(spec: Spec) -> str:
    if isinstance(spec, ContainerGroup):
        return str(Address.container_group(spec.resource_group, spec.name))
    return str(Address.batch(spec.name))


def _summed(
    lines: list[CostLine], specs: Sequence[Spec], table: PriceTable, note: str
) -> CostEstimate:
    ending = [ln for ln in lines if ln.basis != "always"]
    endless = [ln for ln in lines if ln.basis == "always"]
    caps = [_cap(s, lines, table) for s in specs if s.cost.cap is not None]
    return CostEstimate(
        source=table.source,
        lines=tuple(lines),
        total=money(sum(ln.total or 0.0 for ln in ending)),
        hourly=money(sum(ln.hourly or 0.0 for ln in endless)),
        per_day=money(sum(ln.per_day or 0.0 for ln in endless)),
        complete=all(not ln.missing for ln in lines),
        caps=tuple(c for c in caps if c is not None),
        note=note,
    )


def _cap(spec: Spec, lines: list[CostLine], table: PriceTable) -> CapCheck | None:
    """One apply's cost against the cap; an always-running group's cost per day. A pool
    kept after the run accrues beyond the apply and is not part of it."""
    assert spec.cost.cap is not None
    cap = spec.cost.cap
    address = spec_address(spec)
    mine = [ln for ln in lines if ln.spec == address]
    if not mine:
        return None
    ending = [ln for ln in mine if ln.basis != "always"]
    per: Literal["run", "day"] = "run" if ending or isinstance(spec, BatchJob) else "day"
    counted = ending if per == "run" else mine
    currency = table.source.currency
    missing = [ln.missing for ln in counted if ln.missing]
    if missing:
        refused = f"{address}: cost.cap {cap:g} {currency} cannot be checked: {missing[0]}"
        return CapCheck(spec=address, cap=cap, estimate=None, per=per, refused=refused)
    amount = money(sum((ln.total if per == "run" else ln.per_day) or 0.0 for ln in counted))
    refused = ""
    if amount > cap:
        unit = "" if per == "run" else " per day"
        shown = f"{amount:.2f}" if amount >= 1 else f"{amount:.4f}"
        refused = (
            f"{address}: estimated {shown} {currency}{unit} is over its cost.cap of "
            f"{cap:g} {currency}{unit}"
        )
    return CapCheck(spec=address, cap=cap, estimate=amount, per=per, refused=refused)


def incurred(
    estimate_: CostEstimate, measured: dict[str, float], running: frozenset[str] = frozenset()
) -> CostIncurred:
    """What the run cost: each priced line's measured seconds (a pool from allocation to
    release, a container group from start to stop) at the estimate's hourly price.
    ``running`` names those still running after apply, whose cost goes on."""
    by_address = {ln.address: ln for ln in estimate_.lines if ln.basis != "always"}
    by_address.update({ln.address: ln for ln in estimate_.lines if ln.basis == "always"})
    out: list[IncurredLine] = []
    for address, seconds in measured.items():
        line = by_address.get(address)
        if line is None:
            continue  # ran without being priced: an in-place update of a running group
        hourly = line.hourly
        cost = money(hourly * seconds / 3600) if hourly is not None else None
        out.append(
            IncurredLine(
                address=address,
                seconds=round(seconds, 3),
                hourly=hourly,
                cost=cost,
                running=address in running,
            )
        )
    return CostIncurred(
        source=estimate_.source,
        lines=tuple(out),
        total=money(sum(ln.cost or 0.0 for ln in out)),
        complete=all(ln.cost is not None for ln in out),
        note=estimate_.note,
    )


def price_queries(specs: Sequence[Spec]) -> list[tuple[str, str, str]]:
    """What an estimate of ``specs`` looks up: (service, region, VM size or "") for each
    container group's region and each pool's region and size, so that a price source
    asked over the network is asked for these alone."""
    wanted: dict[tuple[str, str, str], None] = {}
    for spec in specs:
        if isinstance(spec, ContainerGroup):
            wanted[(ACI_SERVICE, spec.location.replace(" ", "").lower(), "")] = None
            continue
        region = batch_region(spec)
        if region is not None:
            wanted[(VM_SERVICE, region, spec.pool.vm_size)] = None
    return list(wanted)
