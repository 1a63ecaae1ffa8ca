"""Golden files for renderings: rewritten only with ``--update-golden`` (or
``RUNNER_UPDATE_GOLDEN=1``), then reviewed as diffs."""

from __future__ import annotations

from pathlib import Path

import pytest


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
