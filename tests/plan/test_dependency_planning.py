"""Dependencies as the planner gives them to a task: ids it names and the ranges it
waits for, rendered per input file, and the job made with usesTaskDependencies."""

from __future__ import annotations

from pathlib import Path

from runner.plan.batch_desired import desired_batch
from runner.plan.batch_inputs import BatchInputs, InputFile
from runner.spec.models import BatchJob


def test_templated_ranges_chain_the_tasks_in_order() -> None:
    spec = BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": "chain",
            "pool": {"id": "chain-pool"},
            "job": {"id": "chain-job"},
            "tasks": {
                "forEachFile": "in/*.txt",
                "id": "{{ file.stem }}",
                "command": "true",
                "dependsOn": {"taskIdRanges": [{"start": 1, "end": "{{ file.stem | int - 1 }}"}]},
            },
            "collect": {"dir": "out"},
        }
    )
    files = tuple(InputFile(Path(f"/in/{n}.txt"), md5="", size=0) for n in (1, 2, 3))
    desired = desired_batch(spec, BatchInputs(inputs=files))
    by_id = {t.id: t for t in desired.tasks}
    assert (by_id["1"].depends_on, by_id["1"].depends_on_ranges) == ((), ())
    assert (by_id["3"].depends_on, by_id["3"].depends_on_ranges) == (("1", "2"), ((1, 2),))
    assert desired.job["usesTaskDependencies"] is True
    assert by_id["3"].canonical()["dependsOn"] == ["1", "2"]
