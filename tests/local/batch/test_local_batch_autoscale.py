"""Autoscale and preemption on the local Batch account through azure-batch 15: a pool's
formula evaluated at its interval over its jobs' tasks, and a low-priority node taken
away by a ``preempt`` fault, its task run again elsewhere."""

from __future__ import annotations

import datetime

import pytest
from azure.batch import models as bm
from azure.core.exceptions import HttpResponseError
from batch_helpers import image, wait_task_completed
from waiting import wait_for

from runner.plan.autoscale import pending_tasks_formula
from runner.spec.batch_job import AutoScale

pytestmark = pytest.mark.integration

FIVE_MINUTES = datetime.timedelta(minutes=5)  # a second on the local autoscale clock


def autoscaled_pool(pool_id: str, formula: str) -> bm.BatchPoolCreateOptions:
    return bm.BatchPoolCreateOptions(
        id=pool_id,
        vm_size="STANDARD_D2S_V3",
        virtual_machine_configuration=image(),
        enable_auto_scale=True,
        auto_scale_formula=formula,
        auto_scale_evaluation_interval=FIVE_MINUTES,
    )


def test_a_pool_made_with_a_formula_is_sized_by_it_and_shows_the_run(batch_client, unique_name):
    pool_id = unique_name("as-fixed")
    batch_client.create_pool(autoscaled_pool(pool_id, "$TargetDedicatedNodes = 2;"))
    pool = wait_for(
        lambda: batch_client.get_pool(pool_id),
        lambda p: p.current_dedicated_nodes == 2 and p.allocation_state == "steady",
        "two nodes from the formula",
    )
    assert pool.enable_auto_scale and pool.target_dedicated_nodes == 2
    assert pool.auto_scale_evaluation_interval == FIVE_MINUTES
    assert pool.auto_scale_run.results.startswith(
        "$TargetDedicatedNodes=2;$TargetLowPriorityNodes=0;$NodeDeallocationOption=requeue"
    )
    assert pool.auto_scale_run.error is None


def test_runner_s_formula_grows_the_pool_for_pending_tasks_and_shrinks_it_after(
    batch_client, unique_name
):
    name = unique_name("as-pending")
    pool_id, job_id = f"{name}-pool", f"{name}-job"
    formula = pending_tasks_formula(AutoScale(min=0, max=2), slots=1)
    batch_client.create_pool(autoscaled_pool(pool_id, formula))
    batch_client.create_job(
        bm.BatchJobCreateOptions(id=job_id, pool_info=bm.BatchPoolInfo(pool_id=pool_id))
    )
    batch_client.create_tasks(
        job_id,
        [bm.BatchTaskCreateOptions(id=f"t{i}", command_line="sleep 1") for i in range(3)],
    )
    wait_for(
        lambda: batch_client.get_pool(pool_id),
        lambda p: p.current_dedicated_nodes == 2,
        "two nodes for three pending tasks (max 2)",
    )
    for i in range(3):
        assert wait_task_completed(batch_client, job_id, f"t{i}").execution_info.exit_code == 0
    pool = wait_for(
        lambda: batch_client.get_pool(pool_id),
        lambda p: p.current_dedicated_nodes == 0 and p.allocation_state == "steady",
        "no node once nothing is pending (min 0)",
    )
    assert "$NodeDeallocationOption=taskcompletion" in pool.auto_scale_run.results
    assert list(batch_client.list_nodes(pool_id)) == []


def test_a_formula_that_cannot_be_parsed_is_refused(batch_client, unique_name):
    pool_id = unique_name("as-bad")
    with pytest.raises(HttpResponseError) as caught:
        batch_client.create_pool(autoscaled_pool(pool_id, "$TargetDedicatedNodes = 1 +* 2"))
    assert caught.value.status_code == 400
    assert caught.value.error.code == "AutoScalingFormulaSyntaxError"


def test_an_evaluation_that_fails_answers_the_run_s_error(batch_client, unique_name):
    pool_id = unique_name("as-eval")
    batch_client.create_pool(autoscaled_pool(pool_id, "$TargetDedicatedNodes = 0;"))
    run = batch_client.evaluate_pool_auto_scale(
        pool_id,
        bm.BatchPoolEvaluateAutoScaleOptions(
            auto_scale_formula="$TargetDedicatedNodes = $PendingTasks.GetSample("
            "TimeInterval_Hour, 90);"
        ),
    )
    assert run.results is None
    assert run.error.code and "fewer than 90 percent" in run.error.error_values[0].value


def test_a_preempted_low_priority_node_requeues_its_task_which_runs_again(
    batch_client, faults, unique_name
):
    name = unique_name("preempt")
    pool_id, job_id = f"{name}-pool", f"{name}-job"
    faults.set([{"fault": "preempt", "route": f"/pools/{pool_id}/", "count": 1, "after": 0.3}])
    batch_client.create_pool(
        bm.BatchPoolCreateOptions(
            id=pool_id,
            vm_size="STANDARD_D2S_V3",
            virtual_machine_configuration=image(),
            target_low_priority_nodes=1,
        )
    )
    batch_client.create_job(
        bm.BatchJobCreateOptions(id=job_id, pool_info=bm.BatchPoolInfo(pool_id=pool_id))
    )
    command = "/bin/sh -c 'echo $AZ_BATCH_NODE_ID; sleep 1'"
    batch_client.create_task(job_id, bm.BatchTaskCreateOptions(id="work", command_line=command))
    node = wait_for(
        lambda: list(batch_client.list_nodes(pool_id)),
        lambda ns: ns and ns[0].state == bm.BatchNodeState.PREEMPTED,
        "the node preempted",
    )[0]
    assert not node.is_dedicated
    # Preempted nodes stay in the pool and count among its low-priority nodes.
    assert batch_client.get_pool(pool_id).current_low_priority_nodes == 1
    done = wait_task_completed(batch_client, job_id, "work")
    info = done.execution_info
    # Neither a retry nor a requeue a user asked for: Batch counts neither.
    assert (info.exit_code, info.retry_count, info.requeue_count) == (0, 0, 0)
    # The node came back, its id kept, and ran the task again from the start.
    assert done.node_info.node_id == node.id
    assert info.start_time > node.state_transition_time
    assert faults_hits(faults) == 1


def faults_hits(faults) -> int:
    from runner.backends import local_target

    return sum(r["hits"] for r in local_target.get_faults(faults.status))
