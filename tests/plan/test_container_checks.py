"""A pool that runs containers: the image it gets, what of it the pool's hash and the
task's identity cover, and what the plan refuses before anything is made (an image whose
supported-images entry lacks DockerCompatible, a registry password not in the
environment)."""

from __future__ import annotations

from typing import Any

from test_batch_plan import inputs_from

from runner.plan.batch_desired import DesiredBatch, desired_batch
from runner.plan.batch_observed import ObservedBatch
from runner.plan.container_checks import container_image_problem, registry_password_problems
from runner.spec.models import BatchJob

FILES = {"forEachFile": {"in/a.txt": "a\n"}}


def _desired(pool: dict[str, Any], container: dict[str, Any] | None = None) -> DesiredBatch:
    tasks: dict[str, Any] = {
        "forEachFile": "in/*.txt",
        "id": "t-{{ file.stem }}",
        "command": "wc -w {{ file.name }}",
    }
    if container is None and "containers" in pool:
        container = {"image": "busybox:1.36"}
    if container is not None:
        tasks["container"] = container
    spec = BatchJob.model_validate(
        {
            "kind": "BatchJob",
            "name": "words",
            "pool": {"id": "p", **pool},
            "job": {"id": "j"},
            "tasks": tasks,
            "collect": {"dir": "out"},
        }
    )
    return desired_batch(spec, inputs_from(FILES))


REGISTRY = {"server": "myregistry.azurecr.io", "username": "puller", "passwordEnv": "REG_PASS"}


def test_a_container_pool_without_an_image_gets_one_that_runs_containers() -> None:
    desired = _desired({"containers": {"images": ["busybox:1.36"]}})
    assert desired.pool["image"] == {
        "publisher": "microsoft-dsvm",
        "offer": "ubuntu-hpc",
        "sku": "2204",
        "version": "latest",
    }
    assert desired.pool["containerConfiguration"] == {
        "type": "dockerCompatible",
        "containerImageNames": ["busybox:1.36"],
        "containerRegistries": [],
    }


def test_a_pool_without_containers_keeps_the_hash_it_had() -> None:
    plain = _desired({})
    assert "containerConfiguration" not in plain.pool
    assert plain.pool["image"]["publisher"] == "canonical"


def test_the_registry_password_is_in_no_part_of_the_plan(monkeypatch: Any) -> None:
    monkeypatch.setenv("REG_PASS", "s3cret-value")
    desired = _desired({"containers": {"registries": [REGISTRY]}})
    assert "s3cret-value" not in repr(desired.pool)
    assert desired.pool["containerConfiguration"]["containerRegistries"] == [
        {"registryServer": "myregistry.azurecr.io", "username": "puller", "password": "(sensitive)"}
    ]


def test_the_container_a_task_runs_in_is_part_of_its_identity() -> None:
    pool = {"containers": {"images": ["busybox:1.36"]}}
    (bare,) = _desired({}).tasks
    (boxed,) = _desired(pool, {"image": "busybox:1.36"}).tasks
    (other,) = _desired(pool, {"image": "busybox:1.37"}).tasks
    assert boxed.canonical()["containerSettings"] == {
        "imageName": "busybox:1.36",
        "workingDirectory": "taskWorkingDirectory",
    }
    assert len({bare.identity, boxed.identity, other.identity}) == 3
    assert "containerSettings" not in bare.canonical()


def test_an_image_that_lists_docker_compatible_passes() -> None:
    desired = _desired({"containers": {}})
    seen = ObservedBatch(image_capabilities=("DockerCompatible", "NvidiaTeslaDriverInstalled"))
    assert container_image_problem(desired, seen) is None


def test_an_image_without_docker_compatible_is_refused_naming_one_that_has_it() -> None:
    desired = _desired(
        {
            "containers": {},
            "image": {
                "publisher": "canonical",
                "offer": "0001-com-ubuntu-server-jammy",
                "sku": "22_04-lts",
            },
        }
    )
    problem = container_image_problem(desired, ObservedBatch(image_capabilities=()))
    assert problem is not None
    assert "canonical/0001-com-ubuntu-server-jammy/22_04-lts cannot" in problem
    assert "do not list DockerCompatible" in problem
    assert "microsoft-dsvm/ubuntu-hpc/2204" in problem


def test_an_image_the_account_does_not_list_is_refused() -> None:
    desired = _desired({"containers": {}, "image": {"publisher": "nobody", "offer": "x"}})
    problem = container_image_problem(desired, ObservedBatch(image_capabilities=None))
    assert problem is not None
    assert "does not list among its supported images" in problem


def test_a_pool_without_containers_is_never_checked() -> None:
    assert container_image_problem(_desired({}), ObservedBatch()) is None


def test_a_registry_whose_password_variable_is_unset_is_located() -> None:
    desired = _desired({"containers": {"registries": [REGISTRY]}})
    assert registry_password_problems(desired, {"REG_PASS": "x"}) == []
    ((field, why),) = registry_password_problems(desired, {"REG_PASS": ""})
    assert field == "pool.containers.registries[0].passwordEnv"
    assert "REG_PASS that holds its password is not set" in why


def test_the_merge_task_runs_in_the_tasks_image_unless_it_names_its_own() -> None:
    def merge_image(merge: dict[str, Any]) -> str | None:
        spec = BatchJob.model_validate(
            {
                "kind": "BatchJob",
                "name": "words",
                "pool": {"id": "p", "containers": {}},
                "job": {"id": "j"},
                "tasks": {
                    "forEachFile": "in/*.txt",
                    "id": "t-{{ file.stem }}",
                    "command": "wc -w {{ file.name }} > n.txt",
                    "outputs": ["n.txt"],
                    "container": {"image": "busybox:1.36"},
                },
                "merge": {"id": "total", "command": "cat */n.txt", **merge},
                "collect": {"dir": "out"},
            }
        )
        (merged,) = [t for t in desired_batch(spec, inputs_from(FILES)).tasks if t.merged]
        return merged.container.image if merged.container else None

    assert merge_image({}) == "busybox:1.36"
    assert merge_image({"container": {"image": "python:3.12-slim"}}) == "python:3.12-slim"
