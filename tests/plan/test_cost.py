"""The cost estimate as a pure function: changes, specs and a price table in, cost lines
out; nothing read from disk or the network."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from runner.plan.action import Action
from runner.plan.cost import estimate, incurred, price_queries
from runner.plan.model import Address, Change, Plan
from runner.plan.price_table import PriceSource, PriceTable, hourly
from runner.spec.models import BatchJob, ContainerGroup

SOURCE = PriceSource(kind="file", name="prices.json", date="2026-01-02", currency="USD")
HOUR = timedelta(hours=1)


def vm(region: str, size: str, price: float, sku: str, product: str) -> dict[str, Any]:
    return {
        "serviceName": "Virtual Machines",
        "armRegionName": region,
        "armSkuName": size,
        "skuName": sku,
        "meterName": sku,
        "productName": product,
        "retailPrice": price,
        "unitOfMeasure": "1 Hour",
        "type": "Consumption",
    }


def aci(region: str, meter: str, price: float, unit: str) -> dict[str, Any]:
    return {
        "serviceName": "Container Instances",
        "armRegionName": region,
        "armSkuName": "",
        "skuName": "Standard",
        "meterName": meter,
        "productName": "Container Instances",
        "retailPrice": price,
        "unitOfMeasure": unit,
        "type": "Consumption",
    }


DSV3 = "Virtual Machines DSv3 Series"
TABLE = PriceTable.from_items(
    SOURCE,
    [
        vm("westeurope", "Standard_D2s_v3", 0.1, "D2s v3", DSV3),
        vm("westeurope", "Standard_D2s_v3", 0.02, "D2s v3 Low Priority", DSV3),
        vm("westeurope", "Standard_D2s_v3", 0.015, "D2s v3 Spot", DSV3),
        vm("westeurope", "Standard_D2s_v3", 0.2, "D2s v3", f"{DSV3} Windows"),
        aci("westeurope", "Standard vCPU Duration", 0.04, "1 Hour"),
        aci("westeurope", "Standard Memory Duration", 0.004, "1 GB Hour"),
        aci("westeurope", "Standard Windows Software Duration", 0.00001, "1 Second"),
    ],
)


def group(**fields: Any) -> ContainerGroup:
    base: dict[str, Any] = {
        "kind": "ContainerGroup",
        "name": "web",
        "resourceGroup": "rg",
        "location": "West Europe",
        "containers": [
            {"name": "a", "image": "nginx", "cpu": 1, "memoryInGB": 2},
            {"name": "b", "image": "nginx", "cpu": 0.5, "memoryInGB": 0.5},
        ],
    }
    return ContainerGroup.model_validate({**base, **fields})


def batch_job(**fields: Any) -> BatchJob:
    base: dict[str, Any] = {
        "kind": "BatchJob",
        "name": "words",
        "batch": {"location": "westeurope"},
        "pool": {"id": "p", "vmSize": "STANDARD_D2S_V3", "nodes": 2, "lowPriorityNodes": 3},
        "job": {"id": "j"},
        "tasks": {"forEachFile": "*.txt", "id": "t-{{ file.stem }}", "command": "true"},
        "timeout": "30m",
        "collect": {"dir": "out"},
    }
    return BatchJob.model_validate({**base, **fields})


def plan_of(*changes: tuple[Address, Action]) -> Plan:
    return Plan(changes=tuple(Change(address=a, action=act) for a, act in changes))


GROUP = Address.container_group("rg", "web")
POOL = Address.batch("words", "pool", "p")
TASK = Address.batch("words", "task", "t-a", parent="j")


def test_units_of_measure_become_prices_per_hour() -> None:
    assert hourly(0.5, "1 Hour") == 0.5
    assert hourly(0.004, "1 GB Hour") == 0.004
    assert hourly(0.00001, "1 Second") == pytest.approx(0.036)
    assert hourly(0.1, "100 Seconds") == pytest.approx(3.6)
    assert hourly(1.0, "1/Month") is None  # not a duration: no price rather than a guess


def test_an_always_running_group_is_priced_by_the_hour_and_the_day() -> None:
    cost = estimate(plan_of((GROUP, Action.CREATE)), [group()], TABLE, run_timeout=HOUR)
    (line,) = cost.lines
    # 1.5 vCPU x 0.04 + 2.5 GB x 0.004 per hour, summed over the group's containers.
    assert line.hourly == pytest.approx(0.07)
    assert (line.basis, line.total, line.per_day) == ("always", None, pytest.approx(1.68))
    assert (cost.hourly, cost.per_day, cost.total) == (pytest.approx(0.07), pytest.approx(1.68), 0)
    assert line.what == "1.5 vCPU, 2.5 GB, Linux, westeurope"
    assert cost.source == SOURCE


def test_a_run_to_completion_group_is_priced_up_to_the_run_timeout() -> None:
    spec = group(restartPolicy="Never")
    cost = estimate(plan_of((GROUP, Action.CREATE)), [spec], TABLE, run_timeout=2 * HOUR)
    (line,) = cost.lines
    assert (line.basis, line.hours, line.total) == ("timeout", 2, pytest.approx(0.14))
    assert cost.total == pytest.approx(0.14)


def test_an_expected_duration_prices_the_run_for_that_long() -> None:
    spec = group(restartPolicy="Never", cost={"expectedDuration": "15m"})
    cost = estimate(plan_of((GROUP, Action.START)), [spec], TABLE, run_timeout=HOUR)
    (line,) = cost.lines
    assert (line.basis, line.hours, line.total) == ("expectedDuration", 0.25, 0.0175)


def test_windows_groups_add_the_software_charge_per_vcpu() -> None:
    spec = group(osType="Windows")
    cost = estimate(plan_of((GROUP, Action.CREATE)), [spec], TABLE, run_timeout=HOUR)
    assert cost.lines[0].hourly == pytest.approx(0.07 + 1.5 * 0.036)


def test_a_group_the_plan_leaves_alone_costs_nothing_new() -> None:
    cost = estimate(plan_of((GROUP, Action.NOOP)), [group()], TABLE, run_timeout=HOUR)
    assert cost.lines == () and cost.total == 0 and cost.complete


def test_a_region_the_table_lacks_is_named_not_guessed() -> None:
    spec = group(location="mars")
    cost = estimate(plan_of((GROUP, Action.CREATE)), [spec], TABLE, run_timeout=HOUR)
    (line,) = cost.lines
    assert line.hourly is None and line.per_day is None
    assert line.missing == "prices.json has no Container Instances prices for region 'mars'"
    assert not cost.complete


def test_a_pool_is_priced_by_its_dedicated_and_low_priority_nodes() -> None:
    plan = plan_of((POOL, Action.CREATE), (TASK, Action.CREATE))
    cost = estimate(plan, [batch_job()], TABLE, run_timeout=HOUR)
    (line,) = cost.lines
    # 2 dedicated at 0.1 and 3 low-priority at 0.02 (not Spot's 0.015), for the 30m timeout.
    assert line.hourly == pytest.approx(0.26)
    assert (line.address, line.basis, line.hours) == (str(POOL), "timeout", 0.5)
    assert line.total == pytest.approx(0.13)
    assert line.what == "2 x STANDARD_D2S_V3 dedicated, 3 low-priority, westeurope, Linux"


def test_windows_nodes_are_priced_as_windows_vms() -> None:
    spec = batch_job(
        pool={"id": "p", "vmSize": "Standard_D2s_v3", "nodeAgentSku": "batch.node.windows amd64"}
    )
    cost = estimate(plan_of((POOL, Action.CREATE)), [spec], TABLE, run_timeout=HOUR)
    assert cost.lines[0].hourly == pytest.approx(0.2)


def test_a_pool_kept_after_the_run_goes_on_by_the_hour() -> None:
    spec = batch_job(teardown={"pool": "never"})
    cost = estimate(plan_of((POOL, Action.CREATE)), [spec], TABLE, run_timeout=HOUR)
    run, kept = cost.lines
    assert run.basis == "timeout" and kept.basis == "always"
    assert kept.per_day == pytest.approx(0.26 * 24)
    assert cost.hourly == pytest.approx(0.26)


def test_an_autoscaled_pool_is_priced_at_its_most_nodes_and_says_so() -> None:
    pool = {"id": "p", "vmSize": "STANDARD_D2S_V3", "autoScale": {"min": 1, "max": 4}}
    cost = estimate(plan_of((POOL, Action.CREATE)), [batch_job(pool=pool)], TABLE, run_timeout=HOUR)
    (line,) = cost.lines
    assert line.hourly == pytest.approx(0.4)  # 4 dedicated at 0.1
    assert line.what.startswith("4 x STANDARD_D2S_V3 dedicated (autoscaled 1-4, priced at 4)")


def test_an_autoscaled_low_priority_pool_kept_after_the_run_idles_at_its_fewest() -> None:
    scale = {"min": 1, "max": 4, "lowPriority": True}
    spec = batch_job(
        pool={"id": "p", "vmSize": "STANDARD_D2S_V3", "autoScale": scale},
        teardown={"pool": "never"},
    )
    run, kept = estimate(plan_of((POOL, Action.CREATE)), [spec], TABLE, run_timeout=HOUR).lines
    assert run.hourly == pytest.approx(0.08)  # 4 low-priority at 0.02
    assert kept.hourly == pytest.approx(0.02) and "idle at 1" in kept.what


def test_an_autoscale_formula_of_the_spec_s_own_leaves_the_pool_unpriced() -> None:
    scale = {"formula": "$TargetDedicatedNodes = 2;"}
    spec = batch_job(pool={"id": "p", "vmSize": "STANDARD_D2S_V3", "autoScale": scale})
    (line,) = estimate(plan_of((POOL, Action.CREATE)), [spec], TABLE, run_timeout=HOUR).lines
    assert line.total is None
    assert "autoScale min and max" in line.missing


def test_a_batch_job_with_nothing_to_run_starts_no_node() -> None:
    plan = plan_of((POOL, Action.NOOP), (TASK, Action.NOOP))
    assert estimate(plan, [batch_job()], TABLE, run_timeout=HOUR).lines == ()


def test_a_size_the_table_lacks_is_named_not_guessed() -> None:
    spec = batch_job(pool={"id": "p", "vmSize": "Standard_NC6", "nodes": 1})
    (line,) = estimate(plan_of((POOL, Action.CREATE)), [spec], TABLE, run_timeout=HOUR).lines
    assert line.missing == "prices.json has no Linux price for Standard_NC6 in westeurope"
    assert line.total is None


def test_the_batch_region_comes_from_the_account_url_when_not_given() -> None:
    spec = batch_job(batch={"url": "https://acct.westeurope.batch.azure.com"})
    assert price_queries([spec]) == [("Virtual Machines", "westeurope", "STANDARD_D2S_V3")]
    unknown = batch_job(batch={})
    (line,) = estimate(plan_of((POOL, Action.CREATE)), [unknown], TABLE, run_timeout=HOUR).lines
    assert "region is unknown" in line.missing
    assert price_queries([unknown]) == []


def test_a_plan_over_its_cap_is_refused_naming_cap_and_estimate() -> None:
    spec = batch_job(cost={"cap": 0.1})
    cost = estimate(plan_of((POOL, Action.CREATE)), [spec], TABLE, run_timeout=HOUR)
    (check,) = cost.caps
    assert check.estimate == pytest.approx(0.13)
    assert cost.refusals == ["BatchJob/words: estimated 0.1300 USD is over its cost.cap of 0.1 USD"]


def test_a_plan_within_its_cap_is_not_refused() -> None:
    spec = batch_job(cost={"cap": 1})
    cost = estimate(plan_of((POOL, Action.CREATE)), [spec], TABLE, run_timeout=HOUR)
    assert cost.refusals == [] and cost.caps[0].estimate == pytest.approx(0.13)


def test_an_always_running_group_is_capped_per_day() -> None:
    spec = group(cost={"cap": 1.5})
    cost = estimate(plan_of((GROUP, Action.CREATE)), [spec], TABLE, run_timeout=HOUR)
    assert cost.caps[0].per == "day"
    assert cost.refusals == [
        "ContainerGroup/rg/web: estimated 1.68 USD per day is over its cost.cap of 1.5 USD per day"
    ]


def test_a_cap_that_cannot_be_checked_refuses_the_plan() -> None:
    spec = group(location="mars", cost={"cap": 100})
    cost = estimate(plan_of((GROUP, Action.CREATE)), [spec], TABLE, run_timeout=HOUR)
    (refused,) = cost.refusals
    assert refused.startswith("ContainerGroup/rg/web: cost.cap 100 USD cannot be checked")


def test_cost_incurred_prices_measured_time_at_the_plan_price() -> None:
    cost = estimate(plan_of((POOL, Action.CREATE)), [batch_job()], TABLE, run_timeout=HOUR)
    spent = incurred(cost, {str(POOL): 900.0, "BatchJob/other/pool/x": 60.0})
    (pool,) = spent.lines  # what the estimate did not price is not guessed at either
    assert (pool.seconds, pool.cost, pool.running) == (900.0, pytest.approx(0.065), False)
    assert spent.total == pytest.approx(0.065) and spent.complete and spent.source == SOURCE


def test_cost_incurred_names_what_runs_on_and_what_has_no_price() -> None:
    plan = plan_of((GROUP, Action.CREATE))
    cost = estimate(plan, [group(location="mars")], TABLE, run_timeout=HOUR)
    spent = incurred(cost, {str(GROUP): 60.0}, running=frozenset({str(GROUP)}))
    (line,) = spent.lines
    assert (line.cost, line.running) == (None, True) and not spent.complete


def test_estimate_and_its_json_form_agree() -> None:
    plan = plan_of((GROUP, Action.CREATE), (POOL, Action.CREATE))
    cost = estimate(plan, [group(), batch_job()], TABLE, run_timeout=HOUR)
    priced = plan.model_copy(update={"cost": cost})
    assert Plan.model_validate(priced.model_dump(mode="json")) == priced
    assert priced.model_dump(mode="json")["cost"]["source"]["date"] == "2026-01-02"
