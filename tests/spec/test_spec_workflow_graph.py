"""A workflow's graph checks as data: cycles (named and implied needs), each said once
and pointed at the entry that closes it, and the needs each step ends up with."""

from __future__ import annotations

from typing import Any

from runner.spec.models import Workflow
from runner.spec.workflow_graph import graph_problems, step_needs

GROUP = {"resourceGroup": "demo", "containers": [{"name": "app", "image": "busybox"}]}


def _workflow(steps: dict[str, dict[str, Any]]) -> Workflow:
    return Workflow.model_validate(
        {
            "kind": "Workflow",
            "name": "graph",
            "steps": {n: {"group": GROUP, **s} for n, s in steps.items()},
        }
    )


def test_a_cycle_of_three_is_said_once_from_its_first_step() -> None:
    workflow = _workflow({"c": {"needs": ["a"]}, "a": {"needs": ["b"]}, "b": {"needs": ["c"]}})
    problems = graph_problems(workflow)
    assert [(p.message, p.loc) for p in problems] == [
        ("steps need each other in a cycle: c -> a -> b -> c", ("steps", "c", "needs", 0))
    ]


def test_a_cycle_made_only_of_inputs_points_at_the_from_that_closes_it() -> None:
    workflow = _workflow(
        {
            "a": {"inputs": {"x": {"from": "b.out"}}, "outputs": {"out": "*"}},
            "b": {"inputs": {"y": {"from": "a.out"}}, "outputs": {"out": "*"}},
        }
    )
    (problem,) = graph_problems(workflow)
    assert problem.message == "steps need each other in a cycle: a -> b -> a"
    assert problem.loc == ("steps", "a", "inputs", "x", "from")


def test_two_separate_cycles_are_both_said() -> None:
    workflow = _workflow(
        {
            "a": {"needs": ["b"]},
            "b": {"needs": ["a"]},
            "c": {"needs": ["d", "a"]},
            "d": {"needs": ["c"]},
        }
    )
    messages = [p.message for p in graph_problems(workflow)]
    assert messages == [
        "steps need each other in a cycle: a -> b -> a",
        "steps need each other in a cycle: c -> d -> c",
    ]


def test_needs_are_named_and_implied_in_step_order_without_duplicates() -> None:
    workflow = _workflow(
        {
            "a": {"outputs": {"out": "*"}},
            "b": {"outputs": {"out": "*"}},
            "c": {"needs": ["b", "a", "b"], "inputs": {"x": {"from": "a.out"}}},
        }
    )
    assert graph_problems(workflow) == []
    assert step_needs(workflow) == {"a": (), "b": (), "c": ("a", "b")}


def test_collect_folders_apart_pass_and_a_prefix_of_a_name_is_not_inside() -> None:
    workflow = _workflow({"a": {"collect": {"dir": "out/a"}}, "b": {"collect": {"dir": "out/ab"}}})
    assert graph_problems(workflow) == []
