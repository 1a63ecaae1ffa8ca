"""A restart-Always group stopped outside runner is seen and started again on ``refresh``.
Azure's list carries no instance view (neither the group's nor its containers'), so a plain
plan reads no always-running group one by one (a no-op plan costs a constant number of
requests); with ``refresh`` each unchanged group of the workspace is read with a ``get``;
groups the plan changes anyway, or that are not the workspace's, are never read."""

from __future__ import annotations

import re
from typing import Any

import pytest

from runner.engine import api
from runner.plan.action import Action

pytestmark = pytest.mark.integration


def group_gets(counters: dict[str, int]) -> int:
    one = re.compile(r"^GET .*/containerGroups/\{[^}/]+\}$", re.IGNORECASE)
    return sum(n for key, n in counters.items() if one.match(key))


def test_always_group_stopped_outside_runner_is_started_again(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    faults: Any,
    applied: list[Any],
    aci_client: Any,
    rg: str,
) -> None:
    web, api_group = group_spec("web"), group_spec("api")
    specs = [web, api_group]
    applied += specs
    first = api.build_plan(specs, target, workspace)
    assert api.apply(first, specs, target, events, workspace=workspace).ok

    aci_client.container_groups.stop(rg, "web")
    faults.reset_counters()
    plain = api.build_plan(specs, target, workspace)
    assert group_gets(faults.counters()) == 0  # the list alone: no request per group
    assert not plain.has_changes

    faults.reset_counters()
    plan = api.build_plan(specs, target, workspace, refresh=True)
    by_name = {c.address.leaf: c for c in plan.changes}
    assert by_name["web"].action is Action.START, by_name["web"]
    assert by_name["api"].action is Action.NOOP
    assert group_gets(faults.counters()) == 2  # one per unchanged group: the list says no state

    changed = [group_spec("web", command=["sleep", "7200"]), api_group]
    faults.reset_counters()
    assert api.build_plan(changed, target, workspace, refresh=True).has_changes
    assert group_gets(faults.counters()) == 1  # a changed group is updated whatever its state

    assert api.apply(plan, specs, target, events, workspace=workspace).ok
    group = aci_client.container_groups.get(rg, "web")
    assert group.instance_view.state == "Running"
