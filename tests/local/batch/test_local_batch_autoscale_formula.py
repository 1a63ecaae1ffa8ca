"""Batch's autoscale formula language as the local account evaluates it: the formulas of
Batch's autoscale docs and runner's own, and results written as Azure writes them."""

from __future__ import annotations

import pytest

from runner.local.batch.autoscale_formula import FormulaError, Inputs, Metric, evaluate, parse
from runner.plan.autoscale import pending_tasks_formula
from runner.spec.batch_job import AutoScale

NOW = 1000.0
# Batch's "task-based adjustment" example, capped at 3 (the pool of a user's answer).
DOCS_EXAMPLE = """// In this example, the pool size is adjusted based on the number of tasks.
$samples = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 15);
$tasks = $samples < 70 ? max(0,$PendingTasks.GetSample(1)) :
  max( $PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 15)));
$targetVMs = $tasks > 0? $tasks:max(0, $TargetDedicatedNodes/2);
cappedPoolSize = 3;
$TargetDedicatedNodes = max(1, min($targetVMs, cappedPoolSize));
$NodeDeallocationOption = taskcompletion;"""


def pending(values: list[float], every: float = 30.0) -> Inputs:
    """Samples ``every`` Batch seconds apart, the last one now (Batch time: scale 1)."""
    samples = [(NOW - every * i, v) for i, v in enumerate(reversed(values))][::-1]
    return Inputs(target_dedicated=1.0, metrics={"$PendingTasks": Metric(samples, NOW)})


def test_results_list_the_targets_first_then_the_formula_s_variables_by_name() -> None:
    # Azure's answer to this formula: "$TargetDedicatedNodes=1;$TargetLowPriorityNodes=0;
    # $NodeDeallocationOption=taskcompletion;$samples=96.6667;$targetVMs=0.5;$tasks=0;
    # cappedPoolSize=3" (29 of the 30 samples of 15 minutes in).
    outcome = evaluate(DOCS_EXAMPLE, pending([0.0] * 29))
    assert outcome.results == (
        "$TargetDedicatedNodes=1;$TargetLowPriorityNodes=0;"
        "$NodeDeallocationOption=taskcompletion;$samples=96.6667;$targetVMs=0.5;$tasks=0;"
        "cappedPoolSize=3"
    )
    assert (outcome.dedicated, outcome.low_priority, outcome.deallocation) == (
        1,
        0,
        "taskcompletion",
    )


def test_a_formula_setting_one_target_keeps_the_others_as_batch_shows_them() -> None:
    outcome = evaluate("$TargetDedicatedNodes=3", Inputs())
    assert outcome.results == (
        "$TargetDedicatedNodes=3;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue"
    )


def test_runner_s_formula_asks_a_node_per_pending_task_within_min_and_max() -> None:
    formula = pending_tasks_formula(AutoScale(min=1, max=4), slots=1)
    assert evaluate(formula, pending([7.0, 7.0])).dedicated == 4
    assert evaluate(formula, pending([0.0, 2.0])).dedicated == 2
    assert evaluate(formula, pending([0.0])).dedicated == 1


def test_runner_s_low_priority_formula_asks_for_low_priority_nodes_only() -> None:
    formula = pending_tasks_formula(AutoScale(max=4, low_priority=True), slots=2)
    outcome = evaluate(formula, pending([5.0]))
    assert (outcome.dedicated, outcome.low_priority) == (0, 3)  # 5 tasks, 2 slots a node


def test_get_sample_with_a_percentage_fails_when_too_few_samples_are_in() -> None:
    formula = "$x = $PendingTasks.GetSample(TimeInterval_Minute * 10, 80);"
    assert evaluate(formula, pending([1.0] * 20)).variables["$x"] == [1.0] * 20
    with pytest.raises(FormulaError, match="fewer than 80 percent") as caught:
        evaluate(formula, pending([1.0] * 10))
    assert not caught.value.syntax


def test_time_members_and_aliases_evaluate() -> None:
    formula = (
        "$curTime = time(); $workHours = $curTime.hour >= 0 && $curTime.hour < 24; "
        "$TargetDedicated = $workHours ? 20:10;"
    )
    assert evaluate(formula, Inputs()).dedicated == 20


@pytest.mark.parametrize(
    ("formula", "why"),
    [
        ("$TargetDedicatedNodes = ", "ends in the middle"),
        ("$TargetDedicatedNodes = ceiling(2)", "not a function"),
        ("$PendingTasks = 1", "read-only"),
        ("$TargetDedicatedNodes = 1 +* 2", "unexpected '*'"),
        ("$TargetDedicatedNodes = 2 @ 3", "unexpected character"),
    ],
)
def test_formulas_batch_cannot_parse_are_syntax_errors(formula: str, why: str) -> None:
    with pytest.raises(FormulaError, match=why) as caught:
        parse(formula)
    assert caught.value.syntax


def test_an_undefined_variable_fails_the_evaluation_not_the_parse() -> None:
    parse("$TargetDedicatedNodes = $nothing;")
    with pytest.raises(FormulaError, match=r"\$nothing is not defined"):
        evaluate("$TargetDedicatedNodes = $nothing;", Inputs())
