"""``runner plan`` carries the cost of what it will run, with its price source and date,
in the JSON and the text alike; a spec's cost cap refuses the plan, located at the cap;
``apply``'s result gives what the run cost, from the pool's measured time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from test_topwords_pool import gone_or_deleting
from topwords_helpers import result_of, write_spec

pytestmark = pytest.mark.integration


def test_the_topwords_plan_carries_its_cost_with_source_and_date(
    cli: Any, unique_name: Any, tmp_path: Any
) -> None:
    name = unique_name("tw-cost")
    spec = write_spec(tmp_path / "spec", name)
    cost = json.loads(cli("plan", "--output", "json", *cli.spec_args(spec)).expect(0).out)["cost"]
    assert cost["source"]["kind"] == "table" and cost["source"]["date"] == "2024-06-01"
    (line,) = cost["lines"]
    assert line["address"] == f"BatchJob/{name}/pool/{name}-pool"
    assert (line["basis"], line["hours"]) == ("timeout", pytest.approx(20 / 60))
    assert line["hourly"] > 0 and cost["total"] == pytest.approx(line["hourly"] * 20 / 60)
    assert "bills nothing" in cost["note"]  # the local target: what Azure would charge

    text = cli("plan", *cli.spec_args(spec)).expect(0).out
    assert "Cost estimate (runner's price table (prices-2024-06-01.json), 2024-06-01, USD):" in text
    assert f"  Total: {cost['total']:.4f} USD" in text


def test_a_plan_over_its_cap_is_refused_at_the_cap(
    cli: Any, unique_name: Any, tmp_path: Any
) -> None:
    name = unique_name("tw-cap")
    spec = write_spec(tmp_path / "spec", name, cost={"cap": 0.001})
    refused = cli("plan", *cli.spec_args(spec)).expect(1)
    assert "is over its cost.cap of 0.001 USD; nothing was created" in refused.err
    assert f"{spec}:" in refused.err


def test_the_apply_result_gives_the_cost_the_run_incurred(
    cli: Any, unique_name: Any, tmp_path: Any
) -> None:
    name = unique_name("tw-spent")
    spec = write_spec(tmp_path / "spec", name, texts={"a.txt": "a b a\n"})
    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(0)
    cost = result_of(run.out)["cost"]
    assert cost["source"]["date"] == "2024-06-01"
    (line,) = cost["lines"]
    # From the pool's create to the teardown that deleted it, at the plan's price.
    assert line["address"] == f"BatchJob/{name}/pool/{name}-pool" and not line["running"]
    assert line["seconds"] > 0
    assert line["cost"] == pytest.approx(line["hourly"] * line["seconds"] / 3600, abs=1e-6)
    assert cost["total"] == line["cost"] and cost["complete"]


def test_a_run_whose_accrued_cost_passes_its_cap_is_stopped_and_torn_down(
    cli: Any, emulator: dict[str, Any], unique_name: Any, tmp_path: Any
) -> None:
    name = unique_name("tw-capped")
    # Expected to take a second, so the plan is under the cap; its task sleeps for a
    # minute, so the pool's cost passes the cap long before the run could end.
    spec = write_spec(
        tmp_path / "spec",
        name,
        texts={"a.txt": "a\n"},
        tasks={"command": "sleep 60", "outputs": []},
        cost={"expectedDuration": "1s", "cap": 0.00005},
    )
    run = cli("apply", *cli.spec_args(spec), "--yes", "--output", "json").expect(1)
    result = result_of(run.out)
    (reason,) = [e for e in result["errors"] if "cost.cap" in e]
    assert reason.startswith(f"BatchJob/{name}: stopped: its accrued cost ")
    assert reason.endswith("passed its cost.cap of 5e-05 USD")
    assert f"BatchJob/{name}/pool/{name}-pool" in result["removed"]  # teardown.pool: always
    gone_or_deleting(emulator, f"{name}-pool", f"{name}-job")


def test_a_users_price_file_prices_the_plan_and_a_size_it_lacks_is_named(
    cli: Any, unique_name: Any, tmp_path: Any
) -> None:
    name = unique_name("tw-prices")
    spec = write_spec(tmp_path / "spec", name)
    prices = tmp_path / "prices.json"
    item = {
        "serviceName": "Virtual Machines",
        "armRegionName": "westeurope",
        "armSkuName": "Standard_D2s_v3",
        "skuName": "D2s v3",
        "meterName": "D2s v3",
        "productName": "Virtual Machines DSv3 Series",
        "retailPrice": 3.0,
        "unitOfMeasure": "1 Hour",
        "currencyCode": "EUR",
        "effectiveStartDate": "2026-11-01T00:00:00Z",
        "type": "Consumption",
    }
    prices.write_text(json.dumps({"Items": [item]}))
    args = ("plan", "--prices", str(prices), "--output", "json", *cli.spec_args(spec))
    cost = json.loads(cli(*args).expect(0).out)["cost"]
    assert cost["source"] == {
        "kind": "file",
        "name": str(prices),
        "date": "2026-11-01",
        "currency": "EUR",
    }
    assert cost["total"] == pytest.approx(1.0)  # 3 an hour for the 20m timeout

    nosize = unique_name("tw-nosize")
    other = write_spec(
        tmp_path / "other", nosize, pool={"id": f"{nosize}-pool", "vmSize": "Standard_E64s_v3"}
    )
    cli.env["RUNNER_PRICES"] = str(prices)
    out = cli("plan", *cli.spec_args(other)).expect(0).out
    assert f"no price: {prices} has no Linux price for Standard_E64s_v3 in westeurope" in out
