"""status, logs and prune through the engine API against the local target."""

from __future__ import annotations

from typing import Any

import pytest

from runner.engine import api
from runner.plan.action import Action

pytestmark = pytest.mark.integration


def apply(specs: list[Any], target: Any, workspace: str, events: Any, **kw: Any) -> Any:
    plan = api.build_plan(specs, target, workspace)
    return api.apply(plan, specs, target, events, workspace=workspace, **kw)


def test_status_shows_states_and_exit_codes(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    applied: list[Any],
    rg: str,
) -> None:
    applied += [
        group_spec("web"),
        group_spec("task", command=["sh", "-c", "exit 4"], restartPolicy="Never"),
    ]
    apply(applied, target, workspace, events)
    rows = {r.address: r for r in api.status(applied, target, workspace=workspace)}
    web, task = rows[f"ContainerGroup/{rg}/web"], rows[f"ContainerGroup/{rg}/task"]
    assert web.state == "Running"
    assert web.detail["provisioning"] == "Succeeded"
    assert task.state == "Failed"
    assert task.detail["exit_codes"] == {"app": 4}
    everything = api.status(None, target, workspace=workspace)
    assert {r.address for r in everything} == set(rows)


def test_logs_of_a_group_and_of_one_container(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    applied: list[Any],
) -> None:
    spec = group_spec("talk", command=["sh", "-c", "echo one; echo two"], restartPolicy="Never")
    applied.append(spec)
    apply(applied, target, workspace, events)
    assert list(api.logs(spec.spec, target)) == ["one", "two"]
    assert list(api.logs(spec.spec, target, container="app", follow=True)) == ["one", "two"]
    with pytest.raises(Exception, match="no container 'nope'"):
        list(api.logs(spec.spec, target, container="nope"))


def test_prune_deletes_orphans_of_the_workspace_only(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    applied: list[Any],
    aci_client: Any,
    rg: str,
) -> None:
    keep, gone = group_spec("keep"), group_spec("gone")
    applied += [keep, gone]
    assert apply([keep, gone], target, workspace, events).ok
    plan = api.build_plan([keep], target, workspace)
    assert [str(o) for o in plan.orphans] == [f"ContainerGroup/{rg}/gone"]
    assert not any(c.action is Action.DELETE for c in plan.changes)
    result = api.apply(plan, [keep], target, events, workspace=workspace, prune=True)
    assert result.ok, result.errors
    assert result.removed == [f"ContainerGroup/{rg}/gone"]
    assert {g.name for g in aci_client.container_groups.list_by_resource_group(rg)} == {"keep"}
