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
