"""The engine through the real SDKs against the local target (ARM + ACI on Docker)."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from runner.engine import api
from runner.engine.events import StepFinished, StepProgress, StepStarted
from runner.engine.lock import WorkspaceLock
from runner.errors import LockError
from runner.plan.action import Action

pytestmark = pytest.mark.integration

GROUPS = "Microsoft.ContainerInstance/containerGroups"


def group_requests(counters: dict[str, int], method: str) -> int:
    """Requests of ``method`` on single container groups (and their actions)."""
    one = re.compile(rf"^{method} .*/containerGroups/\{{[^}}/]+\}}(/\w+)?$", re.IGNORECASE)
    return sum(n for key, n in counters.items() if one.match(key))


def plan_and_apply(specs: list[Any], target: Any, workspace: str, emit: Any, **kw: Any) -> Any:
    plan = api.build_plan(specs, target, workspace)
    return plan, api.apply(plan, specs, target, emit, workspace=workspace, **kw)


def test_groups_are_applied_concurrently(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    faults: Any,
    applied: list[Any],
    aci_client: Any,
    rg: str,
) -> None:
    specs = [group_spec(f"web{i}") for i in range(6)]
    applied += specs
    faults.set(
        [{"api": "arm", "method": "PUT", "route": GROUPS, "fault": "latency", "lro_latency": 0.5}]
    )
    _, result = plan_and_apply(specs, target, workspace, events)
    assert result.ok, result.errors
    assert result.counts["created"] == 7  # the resource group and six groups
    group_events = [e for e in events if e.address.startswith("ContainerGroup/")]
    first_finish = next(i for i, e in enumerate(group_events) if isinstance(e, StepFinished))
    started_before = [e for e in group_events[:first_finish] if isinstance(e, StepStarted)]
    # Every group was sent before any finished: they ran side by side, not one by one.
    assert len(started_before) == 6
    names = {g.name for g in aci_client.container_groups.list_by_resource_group(rg)}
    assert names == {f"web{i}" for i in range(6)}


def test_second_apply_sends_no_put(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    faults: Any,
    applied: list[Any],
) -> None:
    specs = [group_spec("web"), group_spec("api")]
    applied += specs
    assert plan_and_apply(specs, target, workspace, events)[1].ok
    faults.reset_counters()
    plan, result = plan_and_apply(specs, target, workspace, events)
    assert result.ok
    assert not plan.has_changes
    assert [c.action for c in plan.changes] == [Action.NOOP] * 3
    counters = faults.counters()
    for method in ("PUT", "POST", "PATCH", "DELETE"):
        assert group_requests(counters, method) == 0, counters


def test_image_change_is_a_put_and_tag_change_only_a_patch(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    faults: Any,
    applied: list[Any],
    aci_client: Any,
    rg: str,
    second_test_image: str,
) -> None:
    applied.append(group_spec("web"))
    assert plan_and_apply(applied, target, workspace, events)[1].ok
    faults.reset_counters()
    tagged = [group_spec("web", tags={"team": "blue"})]
    plan, result = plan_and_apply(tagged, target, workspace, events)
    assert plan.changes[1].action is Action.UPDATE and result.ok
    counters = faults.counters()
    assert group_requests(counters, "PUT") == 0
    assert group_requests(counters, "PATCH") == 1
    assert aci_client.container_groups.get(rg, "web").tags["team"] == "blue"
    faults.reset_counters()
    moved = [group_spec("web", tags={"team": "blue"}, image=second_test_image)]
    plan, result = plan_and_apply(moved, target, workspace, events)
    assert plan.changes[1].paths == ("containers[app].image",) and result.ok
    assert group_requests(faults.counters(), "PUT") == 1
    assert group_requests(faults.counters(), "DELETE") == 0
    assert aci_client.container_groups.get(rg, "web").containers[0].image == second_test_image


def test_task_is_run_collected_and_torn_down_on_success(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    applied: list[Any],
    aci_client: Any,
    rg: str,
    workdir: Path,
) -> None:
    applied.append(
        group_spec(
            "task",
            command=["sh", "-c", "echo hello; echo oops >&2"],
            restartPolicy="Never",
            teardown="onSuccess",
            collect={"dir": "out/hello"},
        )
    )
    _, result = plan_and_apply(applied, target, workspace, events)
    assert result.ok, result.errors
    out = workdir / "out" / "hello"
    assert "hello" in (out / "app.log").read_text()
    assert json.loads((out / "exit_codes.json").read_text()) == {"app": 0}
    assert sorted(result.outputs) == sorted(str(p) for p in out.iterdir())
    assert result.removed == [f"ContainerGroup/{rg}/task"]
    assert "task" not in {g.name for g in aci_client.container_groups.list_by_resource_group(rg)}


def test_failed_task_is_not_ok_and_is_left_for_inspection(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    applied: list[Any],
    aci_client: Any,
    rg: str,
    workdir: Path,
) -> None:
    applied.append(
        group_spec(
            "task",
            command=["sh", "-c", "echo boom; exit 3"],
            restartPolicy="Never",
            teardown="onSuccess",
        )
    )
    _, result = plan_and_apply(applied, target, workspace, events)
    assert not result.ok
    assert "app exited with 3" in " ".join(result.errors)
    assert json.loads((workdir / "out" / "task" / "exit_codes.json").read_text()) == {"app": 3}
    assert result.left == [f"ContainerGroup/{rg}/task"]
    assert aci_client.container_groups.get(rg, "task").instance_view.state == "Failed"


def test_finished_task_is_started_again_not_recreated(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    faults: Any,
    applied: list[Any],
    workdir: Path,
) -> None:
    applied.append(group_spec("task", command=["sh", "-c", "echo run"], restartPolicy="Never"))
    assert plan_and_apply(applied, target, workspace, events)[1].ok
    faults.reset_counters()
    plan, result = plan_and_apply(applied, target, workspace, events)
    assert plan.changes[1].action is Action.START
    assert result.ok and result.counts.get("started") == 1
    counters = faults.counters()
    assert group_requests(counters, "PUT") == 0
    assert group_requests(counters, "POST") == 1  # the start action
    assert "run" in (workdir / "out" / "task" / "app.log").read_text()


def test_cancel_runs_the_teardown_and_reports_it(
    group_spec: Any,
    target: Any,
    workspace: str,
    applied: list[Any],
    aci_client: Any,
    rg: str,
) -> None:
    applied.append(
        group_spec("long", command=["sleep", "600"], restartPolicy="Never", teardown="always")
    )
    cancel = threading.Event()
    seen: list[Any] = []

    def emit(event: Any) -> None:
        seen.append(event)
        if isinstance(event, StepProgress) and "running" in event.message:
            cancel.set()  # as Ctrl-C would, once the group runs

    plan = api.build_plan(applied, target, workspace)
    result = api.apply(plan, applied, target, emit, workspace=workspace, cancel=cancel)
    assert not result.ok
    assert result.removed == [f"ContainerGroup/{rg}/long"]
    finished = [e for e in seen if isinstance(e, StepFinished) and e.address.endswith("/long")]
    assert finished[-1].outcome == "cancelled"
    assert "long" not in {g.name for g in aci_client.container_groups.list_by_resource_group(rg)}


def test_a_second_apply_of_the_workspace_fails_fast(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    workdir: Path,
) -> None:
    specs = [group_spec("web")]
    plan = api.build_plan(specs, target, workspace)
    with (
        WorkspaceLock(workspace, command="runner apply first.yaml"),
        pytest.raises(LockError, match="runner apply first.yaml"),
    ):
        api.apply(plan, specs, target, events, workspace=workspace)
    assert events.of(StepStarted) == []


def test_destroy_removes_the_groups_and_the_resource_group(
    group_spec: Any,
    target: Any,
    workspace: str,
    events: Any,
    resource_client: Any,
    rg: str,
    docker_client: Any,
) -> None:
    specs = [group_spec("web"), group_spec("api")]
    assert plan_and_apply(specs, target, workspace, events)[1].ok
    assert {r.state for r in api.status(None, target, workspace=workspace)} == {"Running"}
    result = api.destroy(None, target, events, workspace=workspace)
    assert result.ok, result.errors
    assert sorted(result.removed) == sorted(
        [f"ContainerGroup/{rg}/web", f"ContainerGroup/{rg}/api", f"ResourceGroup/{rg}"]
    )
    assert api.status(None, target, workspace=workspace) == []
    assert not resource_client.resource_groups.check_existence(rg)
    statuses = api.status(specs, target, workspace=workspace)
    assert [r.state for r in statuses] == ["absent", "absent"]
