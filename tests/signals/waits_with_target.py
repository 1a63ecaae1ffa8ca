"""Run by test_run_signals.py in a pytest of its own, which it stops with a signal while
a test here waits; not collected by the default run (its name does not start with test_)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

READY_FILE = "RUNNER_SIGNAL_TEST_READY"


def _ready(record: dict[str, Any]) -> None:
    ready = Path(os.environ[READY_FILE])
    partial = ready.with_suffix(".partial")
    partial.write_text(json.dumps(record))
    partial.rename(ready)  # whole or absent, for the test polling it


@pytest.fixture(scope="session")
def finalized() -> Iterator[Path]:
    """Its finalizer leaves a file beside the ready file: proof that the teardown ran."""
    marker = Path(os.environ[READY_FILE]).with_name("finalized")
    yield marker
    marker.write_text("finalized\n")


def test_waits_with_the_target_up(emulator: dict[str, Any]) -> None:
    _ready({"state": os.environ["RUNNER_LOCAL_DIR"], "storage": bool(emulator.get("storage"))})
    time.sleep(120)


def test_waits_with_a_session_fixture(finalized: Path) -> None:
    _ready({"marker": str(finalized)})
    time.sleep(120)
