"""A run's cost incurred in the result, as text and as JSON, from the same data."""

from __future__ import annotations

import io
import json

from rich.console import Console

from runner.engine.result import RunResult
from runner.plan.cost_lines import CostIncurred, IncurredLine
from runner.plan.price_table import PriceSource
from runner.render.human import HumanRenderer
from runner.render.json import JsonRenderer

SPENT = CostIncurred(
    source=PriceSource(kind="table", name="runner's price table", date="2024-06-01"),
    lines=(
        IncurredLine(address="BatchJob/w/pool/p", seconds=754.0, hourly=0.111, cost=0.023248),
        IncurredLine(
            address="ContainerGroup/rg/web", seconds=30.0, hourly=1.2, cost=0.01, running=True
        ),
    ),
    total=0.033248,
)


def test_the_text_result_lists_what_each_resource_cost_and_what_runs_on() -> None:
    buffer = io.StringIO()
    renderer = HumanRenderer(Console(file=buffer, width=200), live=False, interval=3600)
    renderer.result(RunResult(cost=SPENT), command="apply")
    lines = buffer.getvalue().splitlines()
    assert lines[:4] == [
        "Cost incurred (runner's price table, 2024-06-01, USD):",
        "    BatchJob/w/pool/p: 12m34s: 0.0232 USD",
        "    ContainerGroup/rg/web: 30s: 0.0100 USD; still running at 1.20 USD/hour",
        "  Total: 0.0332 USD",
    ]


def test_the_json_result_carries_the_same_cost() -> None:
    buffer = io.StringIO()
    JsonRenderer(buffer).result(RunResult(cost=SPENT), command="apply")
    result = json.loads(buffer.getvalue())
    assert CostIncurred.model_validate(result["cost"]) == SPENT


def test_a_result_without_cost_says_nothing_of_it() -> None:
    buffer = io.StringIO()
    JsonRenderer(buffer).result(RunResult(), command="destroy")
    assert "cost" not in json.loads(buffer.getvalue())
