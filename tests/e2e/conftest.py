"""End-to-end helpers: the ``runner`` CLI in a subprocess against the local target.

Each test gets its own workspace name and resource group, so the session's shared
emulator holds no state that one test could see from another. The ``emulator`` fixture
(tests/conftest.py) has set ``RUNNER_LOCAL_DIR`` in ``os.environ``: CLI subprocesses
inherit it and find the running target.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from runner_cli import runner

SPECS = Path(__file__).parent / "specs"
CLI_TIMEOUT = 180
GROUP_LABEL = "runner.local.group"  # set by runner.local.containers on every container


@dataclass
class Cli:
    """Runs ``runner ...`` in ``cwd`` with a fixed workspace; returns the finished process."""

    cwd: Path
    workspace: str
    env: dict[str, str]

    def __call__(self, *args: str, input: str | None = None, timeout: float = CLI_TIMEOUT) -> Run:
        proc = runner(self.env, self.cwd, *args, input=input or "", timeout=timeout)
        return Run(args=list(args), code=proc.returncode, out=proc.stdout, err=proc.stderr)

    def spec_args(self, spec: Path, **variables: str) -> list[str]:
        args = [str(spec), "--workspace", self.workspace]
        for name, value in variables.items():
            args += ["--var", f"{name}={value}"]
        return args


@dataclass
class Run:
    args: list[str]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def expect(self, code: int) -> Run:
        assert self.code == code, (
            f"runner {' '.join(self.args)} exited {self.code}, expected {code}\n"
            f"--- stdout\n{self.out}\n--- stderr\n{self.err}"
        )
        return self


@pytest.fixture
def cli(emulator: dict[str, Any], tmp_path: Path, unique_name: Callable[[str], str]) -> Cli:
    env = dict(os.environ)
    env["RUNNER_TARGET"] = "local"
    env["COLUMNS"] = "200"  # plan lines unwrapped, so assertions see them whole
    return Cli(cwd=tmp_path, workspace=unique_name("ws"), env=env)


@pytest.fixture
def names(unique_name: Callable[[str], str]) -> dict[str, str]:
    """A fresh resource group and group name for this test."""
    return {"rg": unique_name("e2e-rg"), "name": unique_name("cg")}


@pytest.fixture(scope="session")
def second_image(docker_client: Any, test_image: str) -> str:
    """The test image under a second tag: an image change without a registry."""
    repository, _, _ = test_image.rpartition(":")
    docker_client.images.get(test_image).tag(repository or test_image, "e2e-2")
    return f"{repository or test_image}:e2e-2"


class Requests:
    """The emulator's request counters: ``reset()``, then ``puts()``/``deletes()`` since."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.status = status

    def reset(self) -> None:
        from runner.backends import local_target

        local_target.reset_counters(self.status)

    def counters(self) -> dict[str, int]:
        from runner.backends import local_target

        return local_target.counters(self.status)

    def puts(self) -> int:
        return group_requests(self.counters(), "PUT")

    def deletes(self) -> int:
        return group_requests(self.counters(), "DELETE")


@pytest.fixture
def requests_seen(emulator: dict[str, Any]) -> Requests:
    return Requests(emulator)


def group_requests(counters: dict[str, int], method: str) -> int:
    """Requests of ``method`` on one container group (PUT, DELETE, GET...)."""
    one_group = re.compile(rf"^{method} .*/containerGroups/\{{[^}}/]+\}}$", re.IGNORECASE)
    return sum(n for key, n in counters.items() if one_group.match(key))


@pytest.fixture
def spec() -> Callable[[str], Path]:
    """``spec("single")``: a test spec under tests/e2e/specs/."""
    return lambda name: SPECS / f"{name}.yaml"


def _container_or_none(docker_client: Any) -> Callable[[str], Any]:
    def get(container_id: str) -> Any:
        import docker.errors

        try:
            return docker_client.containers.get(container_id)
        except docker.errors.NotFound:
            return None  # removed since it was listed

    return get


@pytest.fixture
def group_containers(docker_client: Any) -> Callable[[str, str], list[Any]]:
    """Docker containers the local target runs for one group (holder included)."""

    def find(rg: str, name: str) -> list[Any]:
        # Labels from one list call: other tests' groups go meanwhile, and a read of
        # each container would trip on those; only this group's are read in full.
        found = docker_client.api.containers(all=True, filters={"label": GROUP_LABEL})
        suffix = f"/{rg}/{name}".lower()
        ids = [c["Id"] for c in found if c["Labels"][GROUP_LABEL].lower().endswith(suffix)]
        return [c for c in map(_container_or_none(docker_client), ids) if c is not None]

    return find


@pytest.fixture
def cleanup(cli: Cli, aci_client: Any) -> Iterator[list[Path]]:
    """Specs appended here mark the test's groups for removal at its end, whatever
    happened. Deletes are sent and not awaited: names are unique per test, so nothing
    later depends on them, and the session's target is purged at the end anyway."""
    specs: list[Path] = []
    yield specs
    if specs:
        for group in aci_client.container_groups.list():
            if (group.tags or {}).get("runner-workspace") == cli.workspace:
                resource_group = group.id.split("/")[4]
                aci_client.container_groups.begin_delete(resource_group, group.name)


@pytest.fixture(scope="session")
def sample_images(docker_client: Any, test_image: str) -> dict[str, str]:
    """Stand-ins for the Azure samples' images, made from the test image (no registry is
    reachable): a web app on port 80, a sidecar that polls it, and a word-count task whose
    ``python`` prints its arguments and the variables the real script reads."""
    scripts = {
        "hello": (
            'CMD ["sh", "-c", "trap \'exit 0\' TERM; mkdir -p /www && '
            'echo hello-from-aci > /www/index.html && httpd -f -p 80 -h /www & wait"]',
            "true",
        ),
        "sidecar": (
            'CMD ["sh", "-c", "trap \'exit 0\' TERM; while true; do '
            'wget -qO- http://localhost:80/ && echo sidecar-polled; sleep 1; done & wait"]',
            "true",
        ),
        "wordcount": (
            'CMD ["sh"]',
            "printf '#!/bin/sh\\necho wordcount \"$@\" NumWords=$NumWords MinLength=$MinLength\\n'"
            " > /bin/python && chmod +x /bin/python",
        ),
    }
    repository = "runner-test/sample"
    made: dict[str, str] = {}
    for name, (cmd, prepare) in scripts.items():
        tag = f"{repository}:{name}"
        container = docker_client.containers.run(
            test_image, ["sh", "-c", prepare], network_mode="none", detach=True
        )
        try:
            container.wait(timeout=30)
            container.commit(repository=repository, tag=name, changes=[cmd])
        finally:
            container.remove(force=True)
        made[name] = tag
    return made


@pytest.fixture
def example() -> Callable[[str], Path]:
    """``example("aci-hello")``: a spec shipped in the repository's specs/ folder."""
    return lambda name: SPECS.parent.parent.parent / "specs" / f"{name}.yaml"
