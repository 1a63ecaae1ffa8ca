"""Engine tests against the local target: real SDK clients, real Docker, each test in its
own workspace and resource group, run from a temporary working directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.engine.events import Event
from runner.spec.loader import LoadedSpec
from runner.spec.models import ContainerGroup


class Events(list[Event]):
    """An ``emit`` that keeps every event."""

    def __call__(self, event: Event) -> None:
        self.append(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self if isinstance(e, kind)]


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def target(emulator: dict[str, Any]) -> Any:
    from runner.backends.target import local_target

    return local_target(emulator)


@pytest.fixture
def workspace(unique_name: Callable[[str], str]) -> str:
    return unique_name("ws")


@pytest.fixture
def rg(unique_name: Callable[[str], str]) -> str:
    return unique_name("eng-rg")


@pytest.fixture
def group_spec(rg: str, test_image: str, workdir: Path) -> Callable[..., LoadedSpec]:
    """``group_spec(name, command=..., **fields)``: a loaded one-container group spec."""

    def make(name: str, command: list[str] | None = None, **fields: Any) -> LoadedSpec:
        container: dict[str, Any] = {
            "name": fields.pop("container", "app"),
            "image": fields.pop("image", test_image),
            "command": command or ["sleep", "3600"],
            "cpu": fields.pop("cpu", 0.5),
            "memoryInGB": fields.pop("memoryInGB", 0.5),
        }
        container.update(fields.pop("container_fields", {}))
        doc = {
            "kind": "ContainerGroup",
            "name": name,
            "resourceGroup": rg,
            "containers": [container],
            **fields,
        }
        return LoadedSpec(
            spec=ContainerGroup.model_validate(doc), path=workdir / "spec.yaml", index=0
        )

    return make


@pytest.fixture
def applied(target: Any, workspace: str) -> Iterator[list[LoadedSpec]]:
    """Specs a test applies; whatever of them is left is destroyed afterwards."""
    specs: list[LoadedSpec] = []
    yield specs
    if specs:
        from runner.engine import api

        api.destroy(specs, target, lambda e: None, workspace=workspace)


@pytest.fixture(scope="session")
def second_test_image(docker_client: Any, test_image: str) -> str:
    """The test image under a second tag: an image change without a registry."""
    repository, _, _ = test_image.rpartition(":")
    docker_client.images.get(test_image).tag(repository or test_image, "engine-2")
    return f"{repository or test_image}:engine-2"
