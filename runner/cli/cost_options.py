"""The plan's cost: ``--prices``, the estimate added to the plan, and the cap check that
refuses a plan before anything is created. Imports no SDK."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import click

from runner.pricing import PRICES_ENV

if TYPE_CHECKING:
    from runner.engine.cost_meter import CostMeter
    from runner.plan.cost_lines import CostIncurred
    from runner.plan.model import Plan
    from runner.spec.loader import LoadedSpec

F = TypeVar("F", bound=Callable[..., Any])

LOCAL_NOTE = "the local target bills nothing: this is what the same run would cost on Azure"


def prices_option(f: F) -> F:
    return click.option(
        "--prices",
        "prices",
        envvar=PRICES_ENV,
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help=(
            "Estimate cost with this price file (the Retail Prices API's JSON shape; a "
            f"saved answer works). Env: {PRICES_ENV}. Default: on --target azure the API, "
            "else runner's dated table."
        ),
    )(f)


def priced(plan: Plan, specs: Sequence[LoadedSpec], target: str | None, prices: str | None) -> Plan:
    """The plan with its cost estimate, at the prices of the chosen source."""
    from runner.engine.api import RUN_TIMEOUT
    from runner.plan.cost import estimate, price_queries
    from runner.pricing.sources import price_table
    from runner.spec.models import Workflow

    models = [s.spec for s in specs if not isinstance(s.spec, Workflow)]
    table, fallback = price_table(prices, target, price_queries(models))
    notes = [fallback] if fallback else []
    if (target or "local") != "azure":
        notes.append(LOCAL_NOTE)
    cost = estimate(
        plan,
        models,
        table,
        run_timeout=timedelta(seconds=RUN_TIMEOUT),
        note="; ".join(notes),
    )
    return plan.model_copy(update={"cost": cost})


def refuse_over_cap(plan: Plan, specs: Sequence[LoadedSpec]) -> None:
    """Raise, located at each spec's ``cost.cap``, when the estimate is over it or cannot
    be checked: nothing has been created yet."""
    from runner.errors import SpecError
    from runner.plan.cost import spec_address

    if plan.cost is None or not plan.cost.refusals:
        return
    from runner.spec.models import Workflow

    by_address = {spec_address(s.spec): s for s in specs if not isinstance(s.spec, Workflow)}
    diagnostics = []
    sources: dict[str, str] = {}
    for check in plan.cost.caps:
        if not check.refused:
            continue
        loaded = by_address[check.spec]
        error = loaded.error(f"{check.refused}; nothing was created", "cost.cap")
        diagnostics += error.diagnostics
        sources.update(error.sources)
    raise SpecError(diagnostics, sources)


def spent(plan: Plan, meter: CostMeter, removed: Sequence[str]) -> CostIncurred | None:
    """What the apply cost: the meter's measured times at the plan's prices."""
    from runner.plan.cost import incurred

    if plan.cost is None:
        return None
    return incurred(plan.cost, meter.measured(), meter.running(removed))
