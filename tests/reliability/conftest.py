"""Reliability suites: fault storms, hostile input, secrets, concurrency.

The end-to-end helpers of tests/e2e (the ``cli`` runner, per-test names, the top-N spec
writer) are shared rather than copied: its conftest is loaded under another module name
and its fixtures re-exported here, and tests/e2e joins ``sys.path`` for
``topwords_helpers``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

E2E = Path(__file__).resolve().parents[1] / "e2e"
if str(E2E) not in sys.path:
    sys.path.append(str(E2E))


def _load_e2e_conftest() -> object:
    name = "e2e_shared_fixtures"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, E2E / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_e2e = _load_e2e_conftest()
Cli = _e2e.Cli  # type: ignore[attr-defined]
Run = _e2e.Run  # type: ignore[attr-defined]
cli = _e2e.cli  # type: ignore[attr-defined]
names = _e2e.names  # type: ignore[attr-defined]
spec = _e2e.spec  # type: ignore[attr-defined]
cleanup = _e2e.cleanup  # type: ignore[attr-defined]
requests_seen = _e2e.requests_seen  # type: ignore[attr-defined]
group_containers = _e2e.group_containers  # type: ignore[attr-defined]
group_requests = _e2e.group_requests  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figures of the reliability suites that ran: storms and secret scans."""
    from secret_scan import secrets_found
    from storm_helpers import TOTALS

    found, places = secrets_found()
    if not TOTALS.runs and not places:
        return
    terminalreporter.section("reliability figures")
    if TOTALS.runs:
        terminalreporter.line(
            f"fault storms: {TOTALS.runs} runs, {TOTALS.faults} faults injected, "
            f"{TOTALS.retries} retries"
        )
    if places:
        terminalreporter.line(f"secrets found: {found} (in {places} places scanned)")
