"""What a plan says it will cost, and what a run did cost, as data.

They sit in the plan's JSON form (``cost``) and in the result of ``apply``, so the text and
the JSON are drawn from the same numbers. Amounts are in the source's currency.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from runner.plan.price_table import PriceSource

# How long a line is priced for: up to the spec's timeout, for its expected duration, or
# with no end (an always-running group, a pool kept after the run), by the hour and day.
Basis = Literal["timeout", "expectedDuration", "always"]


def money(amount: float) -> float:
    """Amounts kept to a millionth of the currency: enough for a vCPU-second."""
    return round(amount, 6)


class CostLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    address: str
    spec: str  # the address of the spec it belongs to, which a cap is checked against
    what: str  # "1 x Standard_D2s_v3 dedicated, westeurope, Linux"
    basis: Basis
    hours: float | None = None  # how long it is priced for; None with basis "always"
    hourly: float | None = None  # None: no price (``missing`` says why)
    total: float | None = None  # hourly x hours
    per_day: float | None = None  # for lines with no end
    missing: str = ""


class CapCheck(BaseModel):
    """A spec's ``cost.cap`` against its estimate: ``refused`` says why the plan may not
    be applied, empty when it is within the cap."""

    model_config = ConfigDict(frozen=True)

    spec: str
    cap: float
    estimate: float | None  # None: the estimate lacks a price, so the cap cannot be checked
    per: Literal["run", "day"] = "run"
    refused: str = ""


class CostEstimate(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: PriceSource
    lines: tuple[CostLine, ...] = ()
    total: float = 0.0  # the lines that end, up to their hours
    hourly: float = 0.0  # the lines with no end, per hour
    per_day: float = 0.0
    complete: bool = True  # False: some line has no price and is left out of the totals
    caps: tuple[CapCheck, ...] = ()
    note: str = ""

    @property
    def refusals(self) -> list[str]:
        return [c.refused for c in self.caps if c.refused]


class IncurredLine(BaseModel):
    """One resource's measured time and what it cost at the plan's price."""

    model_config = ConfigDict(frozen=True)

    address: str
    seconds: float
    hourly: float | None
    cost: float | None
    running: bool = False  # still running after apply (kept, or always-running): it accrues


class CostIncurred(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: PriceSource
    lines: tuple[IncurredLine, ...] = ()
    total: float = 0.0
    complete: bool = True
    note: str = ""
