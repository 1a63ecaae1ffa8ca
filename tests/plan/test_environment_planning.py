"""Environment settings are part of what a task runs on: ``tasks.environment`` is in each
task's identity and ``job.environment`` in the job's hash, and a spec without them keeps
the identities and hashes it had, so existing tasks and jobs are not run again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.errors import SpecError
from runner.plan.batch_desired import DesiredBatch, desired_batch
from runner.plan.batch_inputs import BatchInputs, InputFile
from runner.spec.models import BatchJob

# What a task and the job of the spec below hashed to before environments existed.
IDENTITY = "c411578e3317cb43c1da70ec7e5879be7f3c539e03e386ac7a86e555157c28a4"
JOB_HASH = "6e9ddd9c654126957ea971b7c8618e539811a1f1066fa1d3b150d077fe1ff079"
INPUTS = BatchInputs(inputs=(InputFile(Path("/specs/in/a.txt"), "md5==", 3),))


def desired(tasks: dict[str, Any] | None = None, job: dict[str, Any] | None = None) -> DesiredBatch:
    spec = BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": "tw",
            "pool": {"id": "tw-pool"},
            "job": {"id": "tw-job", **(job or {})},
            "tasks": {
                "forEachFile": "in/*.txt",
                "id": "tw-{{ file.stem }}",
                "command": "wc -w {{ file.name }}",
                "outputs": ["{{ file.stem }}.out"],
                **(tasks or {}),
            },
            "collect": {"dir": "out"},
        }
    )
    return desired_batch(spec, INPUTS)


def test_without_environment_identities_and_hashes_are_as_before() -> None:
    plain = desired()
    assert plain.tasks[0].identity == IDENTITY
    assert plain.job_hash == JOB_HASH
    assert "environmentSettings" not in plain.tasks[0].canonical()


def test_task_environment_is_rendered_per_task_and_changes_its_identity() -> None:
    one = desired({"environment": {"SAMPLE": "{{ file.stem }}", "LEVEL": 2}})
    (task,) = one.tasks
    assert task.environment == (("SAMPLE", "a"), ("LEVEL", "2"))
    assert task.canonical()["environmentSettings"] == {"SAMPLE": "a", "LEVEL": "2"}
    other = desired({"environment": {"SAMPLE": "{{ file.stem }}", "LEVEL": 3}})
    assert len({IDENTITY, task.identity, other.tasks[0].identity}) == 3
    assert one.job_hash == JOB_HASH


def test_job_environment_is_the_jobs_and_changes_its_hash_not_the_tasks() -> None:
    one = desired(job={"environment": {"MODE": "fast"}})
    assert one.job_environment == {"MODE": "fast"}
    assert one.job["commonEnvironmentSettings"] == {"MODE": "fast"}
    assert one.job_hash not in (JOB_HASH, desired(job={"environment": {"MODE": "slow"}}).job_hash)
    assert one.tasks[0].identity == IDENTITY


def test_a_rendered_value_that_looks_like_a_key_is_refused_at_its_field() -> None:
    key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    with pytest.raises(SpecError) as info:
        desired({"environment": {"PATHS": "{{ file.stem }}" + key}})
    (problem,) = info.value.diagnostics
    assert problem.field_path == "tasks.environment.PATHS"
    assert "looks like an account key (base64)" in problem.summary
    assert key not in problem.summary
