"""Golden files for renderings: rewritten only with ``--update-golden`` (or
``RUNNER_UPDATE_GOLDEN=1`` when this conftest is not loaded early enough to add the flag),
then reviewed as diffs."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

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


@pytest.fixture
def golden(update_golden: bool):
    """``golden(path, text)``: compare with the file, or write it under --update-golden."""

    def check(path: Path, text: str) -> None:
        if update_golden or not path.exists():
            if not update_golden:
                pytest.fail(f"{path} is missing: run with --update-golden and review it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert text == path.read_text(encoding="utf-8"), f"differs from {path}"

    return check
