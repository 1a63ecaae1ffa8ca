"""Spec tests: the ``--update-golden`` flag rewrites ``bad/*.expected`` from the loader's
current output (run ``pytest tests/spec --update-golden``, then review the diff)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the expected diagnostics of tests/spec/bad from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    # The option exists only when this folder is named on the command line (pytest reads
    # options from the conftest files of the paths it is given).
    return bool(request.config.getoption("--update-golden", default=False))
