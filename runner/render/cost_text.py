"""Cost as text lines with style names: a plan's estimate and a run's measured cost.

Drawn from the same ``CostEstimate`` and ``CostIncurred`` the JSON form carries, so the
two cannot disagree.
"""

from __future__ import annotations

from runner.plan.cost_lines import CostEstimate, CostIncurred, CostLine
from runner.plan.price_table import PriceSource

StyledText = tuple[str, str | None]


def amount(value: float) -> str:
    """Two decimals, or four for the fractions of a cent short runs cost."""
    return f"{value:.2f}" if value >= 0.995 or value == 0 else f"{value:.4f}"


def duration(hours: float) -> str:
    seconds = round(hours * 3600)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    text = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "")
    return text or "0s"


def source_text(source: PriceSource) -> str:
    return f"{source.name}, {source.date or 'undated'}, {source.currency}"


def _how_long(line: CostLine) -> str:
    if line.basis == "always" or line.hours is None:
        return "no end"
    why = "expected" if line.basis == "expectedDuration" else "up to its timeout"
    return f"{duration(line.hours)} ({why})"


def _priced(line: CostLine, currency: str) -> str:
    if line.hourly is None:
        return f"no price: {line.missing}"
    rate = f"{amount(line.hourly)} {currency}/hour"
    if line.total is not None:
        return f"{rate} for {_how_long(line)}: {amount(line.total)} {currency}"
    return f"{rate}, {amount(line.per_day or 0.0)} {currency}/day, while it runs"


def estimate_lines(cost: CostEstimate) -> list[StyledText]:
    currency = cost.source.currency
    out: list[StyledText] = [(f"Cost estimate ({source_text(cost.source)}):", "bold")]
    if not cost.lines:
        out.append(("    nothing this plan makes or runs is billed", "dim"))
    for line in cost.lines:
        out.append((f"    {line.address}: {line.what}", None))
        style = None if line.hourly is not None else "yellow"
        out.append((f"        {_priced(line, currency)}", style))
    total = f"  Total: {amount(cost.total)} {currency}"
    if cost.hourly:
        total += (
            f", then {amount(cost.hourly)} {currency}/hour "
            f"({amount(cost.per_day)} {currency}/day) for what keeps running"
        )
    if not cost.complete:
        total += " (incomplete: lines without a price are left out)"
    out.append((total, "bold"))
    if cost.note:
        out.append((f"  Note: {cost.note}", "dim"))
    for refused in cost.refusals:
        out.append((f"  Over the cap: {refused}", "red"))
    return out


def incurred_lines(cost: CostIncurred) -> list[StyledText]:
    currency = cost.source.currency
    out: list[StyledText] = [(f"Cost incurred ({source_text(cost.source)}):", "bold")]
    for line in cost.lines:
        took = duration(line.seconds / 3600)
        spent = f"{amount(line.cost)} {currency}" if line.cost is not None else "no price"
        going = ""
        if line.running:
            going = f"; still running at {amount(line.hourly or 0.0)} {currency}/hour"
        out.append((f"    {line.address}: {took}: {spent}{going}", None))
    total = f"  Total: {amount(cost.total)} {currency}"
    out.append((total + ("" if cost.complete else " (incomplete)"), "bold"))
    if cost.note:
        out.append((f"  Note: {cost.note}", "dim"))
    return out
