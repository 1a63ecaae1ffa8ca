"""Spec tests: ``--update-golden`` (or ``RUNNER_UPDATE_GOLDEN=1`` when this conftest is not
loaded early enough to add the flag) rewrites ``bad/*.expected`` from the loader's current
output; review the diff before committing."""

from __future__ import annotations

import contextlib
import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    with contextlib.suppress(ValueError):  # another conftest already defines the flag
        parser.addoption(
            "--update-golden",
            action="store_true",
            default=False,
            help="rewrite expected files from the current output",
        )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    try:
        flag = bool(request.config.getoption("--update-golden"))
    except ValueError:
        flag = False
    return flag or os.environ.get("RUNNER_UPDATE_GOLDEN") == "1"
