"""Fixtures for the local target's own tests: a resource group per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def resource_group(resource_client: Any, unique_name: Callable[[str], str]) -> Iterator[str]:
    name = unique_name("rg")
    resource_client.resource_groups.create_or_update(name, {"location": "westeurope"})
    yield name
    resource_client.resource_groups.begin_delete(name).result()


@pytest.fixture(scope="session")
def instant_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A second local target whose groups run on the instant runtime (no Docker): for tests
    of the HTTP answers that run Azure's own client code and images as written."""
    from runner.backends import local_target

    state = tmp_path_factory.mktemp("instant-target")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNNER_LOCAL_RUNTIME", "instant")
        status = local_target.up(state)
    yield status
    local_target.down(state, purge=True)


@pytest.fixture(scope="session")
def identity_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A local target of its own that poses as Azure too: its identity endpoint's tokens,
    Azurite over HTTPS taking them (``RUNNER_LOCAL_BLOB_OAUTH=1``); groups on the instant
    runtime, as what is under test is how clients authenticate, not Docker."""
    from runner.backends import local_target

    state = tmp_path_factory.mktemp("identity-target")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNNER_LOCAL_RUNTIME", "instant")
        patch.setenv("RUNNER_LOCAL_BLOB_OAUTH", "1")
        status = local_target.up(state)
    yield status
    local_target.down(state, purge=True)
