"""Run-wide fixtures: the local target (emulator), real SDK clients aimed at it, Docker.

Tests that need a local service fail, never skip, when ``RUNNER_REQUIRE_SERVICES=1``
(CI sets it) and the service is missing.
"""

from __future__ import annotations

import itertools
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["fixtures_batch", "session_cleanup"]

CI_DOCKER_SOCKET = Path("/tmp/runner-ci/docker.sock")
DEFAULT_TEST_IMAGE = "runner-test/busybox:1"
DEFAULT_TOOLS_IMAGE = "runner-test/tools:1"

# Secure values are fingerprinted with a key; without one in the environment runner makes
# a key file in the user's home. A key of this run's own keeps tests out of it.
os.environ.setdefault("RUNNER_FINGERPRINT_KEY", secrets.token_hex(16))

# The engine .ci/services.sh starts, when the caller did not pick one.
if "DOCKER_HOST" not in os.environ and CI_DOCKER_SOCKET.exists():
    os.environ["DOCKER_HOST"] = f"unix://{CI_DOCKER_SOCKET}"


def pytest_addoption(parser: pytest.Parser) -> None:
    # Declared here, in the root conftest, so the flag exists whichever tests are collected;
    # tests/spec and tests/render read it for their golden files.
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite expected files from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Golden files (tests/spec/bad, tests/render/golden) are rewritten only when asked."""
    flag = bool(request.config.getoption("--update-golden"))
    return flag or os.environ.get("RUNNER_UPDATE_GOLDEN") == "1"


def services_required() -> bool:
    return os.environ.get("RUNNER_REQUIRE_SERVICES") == "1"


def missing_service(reason: str) -> None:
    """Fails under RUNNER_REQUIRE_SERVICES=1, skips otherwise."""
    if services_required():
        pytest.fail(f"required service missing: {reason}", pytrace=False)
    pytest.skip(reason)


class StaticToken:
    """A credential with a fixed bearer token: the local target accepts any token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("local-token", int(time.time()) + 3600)


def arm_client(status: dict[str, Any], kind: str = "aci", **kwargs: Any) -> Any:
    """An ACI (``kind="aci"``) or resource (``"resource"``) client aimed at the target."""
    endpoint = status["arm"]["endpoint"]
    options: dict[str, Any] = {
        "base_url": endpoint,
        "credential_scopes": [f"{endpoint}/.default"],
        "connection_verify": status["ca_bundle"],
        "retry_total": 0,
    }
    options.update(kwargs)
    if kind == "aci":
        from azure.mgmt.containerinstance import ContainerInstanceManagementClient

        return ContainerInstanceManagementClient(
            StaticToken(), status["arm"]["subscription"], **options
        )
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient(StaticToken(), status["arm"]["subscription"], **options)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The local target on free ports, state in a temporary folder; its status dict."""
    from session_cleanup import signals_deferred

    from runner.backends import local_target

    state = tmp_path_factory.mktemp("runner-local")
    previous = os.environ.get("RUNNER_LOCAL_DIR")
    os.environ["RUNNER_LOCAL_DIR"] = str(state)
    try:
        # A SIGTERM during the start waits for it to end, then stops the target below.
        with signals_deferred():
            try:
                status = local_target.up(state)
            except Exception as exc:
                missing_service(f"the local target did not start: {exc}")
        yield status
    finally:
        local_target.down(state, purge=True)
        if previous is None:
            os.environ.pop("RUNNER_LOCAL_DIR", None)
        else:
            os.environ["RUNNER_LOCAL_DIR"] = previous


@pytest.fixture(scope="session")
def arm_credential() -> StaticToken:
    """A token credential the local target accepts (any bearer token is)."""
    return StaticToken()


@pytest.fixture(scope="session")
def make_arm_client() -> Callable[..., Any]:
    """``make_arm_client(status, "aci"|"resource", **client_options)``."""
    return arm_client


@pytest.fixture
def aci_client(emulator: dict[str, Any]) -> Any:
    """ContainerInstanceManagementClient on the emulator; no SDK retries (errors surface)."""
    return arm_client(emulator, "aci")


@pytest.fixture
def resource_client(emulator: dict[str, Any]) -> Any:
    return arm_client(emulator, "resource")


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    try:
        import docker

        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:
        missing_service(f"no Docker engine answers ({os.environ.get('DOCKER_HOST')}): {exc}")
    yield client
    client.close()


@pytest.fixture(scope="session")
def test_image(docker_client: Any) -> str:
    """The busybox image made by .ci/services.sh (``docker import`` of a root folder)."""
    import docker.errors

    image = os.environ.get("RUNNER_TEST_IMAGE", DEFAULT_TEST_IMAGE)
    try:
        docker_client.images.get(image)
    except docker.errors.ImageNotFound:
        missing_service(f"test image {image} is not on the engine; run .ci/services.sh")
    return image


@pytest.fixture(scope="session")
def tools_image(docker_client: Any) -> str:
    """Busybox and curl (.ci/services.sh): for containers that talk to the target's URLs."""
    import docker.errors

    image = os.environ.get("RUNNER_TEST_TOOLS_IMAGE", DEFAULT_TOOLS_IMAGE)
    try:
        docker_client.images.get(image)
    except docker.errors.ImageNotFound:
        missing_service(f"test image {image} is not on the engine; run .ci/services.sh")
    return image


_names = itertools.count(1)


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Names unique within the run: ``prefix-<pid>-<n>``, valid for ACI and resource groups."""

    def make(prefix: str) -> str:
        return f"{prefix}-{os.getpid() % 100000}-{next(_names)}"

    return make


class Faults:
    """Fault rules and request counters of the running target, for one test."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.status = status

    def set(self, rules: list[dict[str, Any]]) -> None:
        from runner.backends import local_target

        local_target.set_faults(self.status, rules)

    def clear(self) -> None:
        from runner.backends import local_target

        local_target.clear_faults(self.status)

    def counters(self) -> dict[str, int]:
        from runner.backends import local_target

        return local_target.counters(self.status)

    def reset_counters(self) -> None:
        from runner.backends import local_target

        local_target.reset_counters(self.status)


@pytest.fixture
def faults(emulator: dict[str, Any]) -> Iterator[Faults]:
    handle = Faults(emulator)
    handle.clear()
    try:
        yield handle
    finally:
        handle.clear()


@pytest.fixture
def transitions(emulator: dict[str, Any]) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Sets how fast models advance (``{"aci.provisioning": {"mode": "seconds", ...}}``)."""
    from runner.backends import local_target

    def set_progressions(progressions: dict[str, Any]) -> None:
        local_target.set_transitions(emulator, progressions)

    try:
        yield set_progressions
    finally:
        local_target.set_transitions(emulator, {})
