"""Which tasks of a Batch run can never run: those waiting for a failed task that blocks
them, and, through them, those waiting for a blocked one."""

from __future__ import annotations

from pathlib import Path

from runner.engine.batch_dependencies import blocked
from runner.plan.batch import ObservedTask
from runner.plan.batch_desired import DesiredTask, LocalFile


def _task(task_id: str, *deps: str, action: str = "block") -> DesiredTask:
    return DesiredTask(
        id=task_id,
        command="true",
        input=LocalFile(Path(f"{task_id}.txt"), "in", f"{task_id}.txt", md5="", size=0),
        outputs=(),
        depends_on=deps,
        dependency_action=action,
    )


def _done(task_id: str, code: int) -> ObservedTask:
    return ObservedTask(id=task_id, state="completed", exit_code=code)


def test_failed_dependency_blocks_its_dependents_and_theirs() -> None:
    tasks = [_task("a"), _task("b", "a"), _task("c", "b"), _task("d")]
    seen = {
        "a": _done("a", 1),
        "b": ObservedTask(id="b", state="active"),
        "c": ObservedTask(id="c", state="active"),
        "d": ObservedTask(id="d", state="active"),
    }
    stuck = blocked(tasks, seen)
    assert sorted(stuck) == ["b", "c"]
    assert stuck["b"] == "a failed (exit code 1) and blocks it (dependencyAction: block)"
    assert stuck["c"].startswith("it waits for b, which cannot run")


def test_failure_that_satisfies_blocks_nothing() -> None:
    tasks = [_task("a", action="satisfy"), _task("b", "a")]
    assert blocked(tasks, {"a": _done("a", 1), "b": ObservedTask(id="b", state="active")}) == {}


def test_a_dependency_still_running_blocks_nothing() -> None:
    tasks = [_task("a"), _task("b", "a")]
    seen = {"a": ObservedTask(id="a", state="running"), "b": ObservedTask(id="b", state="active")}
    assert blocked(tasks, seen) == {}
